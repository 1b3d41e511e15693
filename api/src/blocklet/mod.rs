//! Blocklet Server integration: where the app's other components are (`BLOCKLET_MOUNT_POINTS`)
//! and the signed client the Hub calls them with (Payment Kit, Blocklet Server services).

pub mod component_call;
pub mod mount_points;

pub use component_call::{CallError, ComponentClient};
pub use mount_points::MountPoint;
