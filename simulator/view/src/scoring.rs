//! The live scores: the session's metrics, recomputed twice a second, and
//! their rubric scores (`--rubric`, or one the panel chose) with the same
//! [`Rubric::score`] the headless report uses. The panel shows them; a
//! headless app with a rubric keeps them too (tests, trainers' scripts).

use bevy::prelude::*;
use penlab_simulator::metrics::{self, Analysis};
use penlab_simulator::rubric::{Rubric, RubricError, Scores};

use crate::pen::{Live, Options};

/// How often the scores are recomputed, s: a full analysis is O(grid),
/// too much for every frame and more than a reader can follow.
pub const METRICS_PERIOD_S: f64 = 0.5;

/// The latest metrics.
#[derive(Resource, Default)]
pub struct LiveMetrics {
    /// The analysis, once there is one.
    pub analysis: Option<Analysis>,
    /// Session time it was made at, s.
    pub at: f64,
}

impl LiveMetrics {
    /// Asks for a fresh analysis on the next frame.
    pub fn refresh_soon(&mut self) {
        self.analysis = None;
    }
}

/// The rubric the session is scored against, and its latest scores.
#[derive(Resource, Default)]
pub struct LiveRubric {
    /// The rubric, if one was given or chosen.
    pub rubric: Option<Rubric>,
    /// Given on the command line (the panel does not offer others then).
    pub from_command_line: bool,
    /// The scores of the latest analysis.
    pub scores: Option<Scores>,
}

impl LiveRubric {
    /// Scores against the shipped rubric `name` from now on (`None`: no
    /// rubric), rescoring `analysis` at once.
    pub fn choose_shipped(
        &mut self,
        name: Option<&str>,
        analysis: Option<&Analysis>,
    ) -> Result<(), RubricError> {
        self.rubric = match name {
            Some(n) => Rubric::shipped(n).transpose()?,
            None => None,
        };
        self.rescore(analysis);
        Ok(())
    }

    /// Scores `analysis` against the rubric (clears the scores without one).
    pub fn rescore(&mut self, analysis: Option<&Analysis>) {
        self.scores = match (&self.rubric, analysis) {
            (Some(r), Some(a)) => Some(r.score(&a.report)),
            _ => None,
        };
    }
}

/// Keeps [`LiveMetrics`] and [`LiveRubric`] fresh.
pub struct ScoringPlugin;

impl Plugin for ScoringPlugin {
    fn build(&self, app: &mut App) {
        let rubric = app
            .world()
            .get_resource::<Options>()
            .and_then(|o| o.0.rubric.clone());
        app.init_resource::<LiveMetrics>()
            .insert_resource(LiveRubric {
                from_command_line: rubric.is_some(),
                rubric,
                scores: None,
            })
            .add_systems(Update, refresh_metrics);
    }
}

fn refresh_metrics(
    live: Res<Live>,
    mut scores: ResMut<LiveMetrics>,
    mut rubric: ResMut<LiveRubric>,
) {
    let now = live.0.now();
    if scores.analysis.is_some() && now - scores.at < METRICS_PERIOD_S {
        return;
    }
    scores.at = now;
    match metrics::analyse(live.0.coverage.session(), live.0.coverage.config()) {
        Ok(a) => {
            rubric.rescore(Some(&a));
            scores.analysis = Some(a);
        }
        Err(e) => warn!("scores: {e}"),
    }
}
