//! Blocklet identity with no HTTP server in it: DID addresses, the app key that signs and
//! verifies component calls (and the canonical JSON they sign), login-token secrets, where the
//! app's other components are (`BLOCKLET_MOUNT_POINTS`) and the signed client the Hub calls them
//! with (Payment Kit, Blocklet Server services).

pub mod canonical;
pub mod component_call;
pub mod component_sig;
pub mod did;
pub mod did_jwt;
pub mod login_token;
pub mod mount_points;

pub use component_call::{CallError, ComponentClient};
pub use mount_points::MountPoint;
