//! A behavioural mock of a microneedling pen's firmware that speaks the
//! penlab protocol. Filled in by the firmware-mock issue.
