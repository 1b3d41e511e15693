//! Roles (SPEC §7.1): owner and admin reach admin APIs; member and guest see their own data;
//! component callers reach only v1 routes.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Owner,
    Admin,
    Member,
    Guest,
    Component,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
            Role::Guest => "guest",
            Role::Component => "component",
        }
    }

    /// The roles an access key can be made with.
    pub const KEY_ROLES: [Role; 2] = [Role::Member, Role::Admin];

    pub fn is_admin(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            "guest" => Ok(Role::Guest),
            "component" => Ok(Role::Component),
            _ => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_admin() {
        for r in [
            Role::Owner,
            Role::Admin,
            Role::Member,
            Role::Guest,
            Role::Component,
        ] {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!(Role::Owner.is_admin() && Role::Admin.is_admin());
        assert!(!Role::Member.is_admin() && !Role::Guest.is_admin() && !Role::Component.is_admin());
        assert!("root".parse::<Role>().is_err());
    }
}
