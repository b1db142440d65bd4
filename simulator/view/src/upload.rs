//! Only what changed goes to the GPU: the heatmap's changed tiles are sent
//! to the render world and written into the existing texture with
//! `Queue::write_texture`, one small region each. The texture is never
//! uploaded whole again, so a frame costs the same at ten million
//! punctures as at none.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};

use bevy::prelude::*;
use bevy::render::render_asset::RenderAssets;
use bevy::render::render_resource::{
    Extent3d, Origin3d, TexelCopyBufferLayout, TexelCopyTextureInfo, TextureAspect,
};
use bevy::render::renderer::RenderQueue;
use bevy::render::texture::GpuImage;
use bevy::render::{Render, RenderApp, RenderSystems};
use penlab_live::coverage::Patch;

use crate::pen::{Live, SimSet};
use crate::scene::HeatmapImage;

/// Sends each frame's patches to the render world.
#[derive(Resource)]
struct PatchSender(Mutex<Sender<Vec<Patch>>>);

/// The render world's end: patches wait here until the texture exists.
#[derive(Resource)]
struct PatchInbox {
    rx: Mutex<Receiver<Vec<Patch>>>,
    pending: Vec<Patch>,
    image: Option<AssetId<Image>>,
}

/// Heatmap upload statistics, for the panel and the benchmark.
#[derive(Resource, Debug, Default, Clone, Copy)]
pub struct UploadStats {
    /// Patches sent in the latest frame.
    pub patches: usize,
    /// Bytes sent in the latest frame.
    pub bytes: usize,
    /// Bytes sent in all.
    pub total_bytes: u64,
}

/// Moves heatmap changes to the GPU.
pub struct HeatmapUploadPlugin;

impl Plugin for HeatmapUploadPlugin {
    fn build(&self, app: &mut App) {
        let (tx, rx) = channel();
        app.insert_resource(PatchSender(Mutex::new(tx)))
            .init_resource::<UploadStats>()
            .add_systems(Update, send_patches.in_set(SimSet::Present));
        if let Some(render_app) = app.get_sub_app_mut(RenderApp) {
            render_app
                .insert_resource(PatchInbox {
                    rx: Mutex::new(rx),
                    pending: Vec::new(),
                    image: None,
                })
                .add_systems(bevy::render::ExtractSchedule, extract_image_id)
                .add_systems(
                    Render,
                    write_patches.in_set(RenderSystems::PrepareResources),
                );
        }
    }
}

fn send_patches(
    mut live: ResMut<Live>,
    sender: Res<PatchSender>,
    mut stats: ResMut<UploadStats>,
    mut scratch: Local<Vec<Patch>>,
) {
    live.0.coverage.take_patches(&mut scratch);
    stats.patches = scratch.len();
    stats.bytes = scratch.iter().map(|p| p.rgba.len()).sum();
    stats.total_bytes += stats.bytes as u64;
    if scratch.is_empty() {
        return;
    }
    let patches = std::mem::take(&mut *scratch);
    if let Ok(tx) = sender.0.lock() {
        // No render world (no GPU): nothing to draw into.
        let _ = tx.send(patches);
    }
}

fn extract_image_id(
    image: bevy::render::Extract<Option<Res<HeatmapImage>>>,
    mut inbox: ResMut<PatchInbox>,
) {
    if let Some(image) = image.as_ref() {
        inbox.image = Some(image.0.id());
    }
}

fn write_patches(
    mut inbox: ResMut<PatchInbox>,
    images: Res<RenderAssets<GpuImage>>,
    queue: Res<RenderQueue>,
) {
    let inbox = &mut *inbox;
    if let Ok(rx) = inbox.rx.lock() {
        while let Ok(patches) = rx.try_recv() {
            inbox.pending.extend(patches);
        }
    }
    let Some(gpu) = inbox.image.and_then(|id| images.get(id)) else {
        return;
    };
    for patch in inbox.pending.drain(..) {
        queue.write_texture(
            TexelCopyTextureInfo {
                texture: &gpu.texture,
                mip_level: 0,
                origin: Origin3d {
                    x: patch.x,
                    y: patch.y,
                    z: 0,
                },
                aspect: TextureAspect::All,
            },
            &patch.rgba,
            TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(patch.width * 4),
                rows_per_image: None,
            },
            Extent3d {
                width: patch.width,
                height: patch.height,
                depth_or_array_layers: 1,
            },
        );
    }
}
