//! Who is calling: roles, Hub access keys, the bootstrap admin, DIDs, and the extractors that
//! handlers take (`Authenticated`, `Admin`).

pub use hub_blocklet::{canonical, component_sig, did, login_token};

pub mod access_key;
pub mod blocklet_key;
pub mod blocklet_users;
pub mod bootstrap;
pub mod cli_secret;
pub(crate) mod extract;
mod key_cache;
pub mod keys;
mod role;
pub mod token;
pub mod v1;

pub use blocklet_key::BlockletKeys;
pub use blocklet_users::BlockletUsers;
pub use extract::{Admin, Authenticated, Identity};
pub use key_cache::KeyCache;
pub use role::Role;
pub use v1::{AppKeys, V1Caller};
