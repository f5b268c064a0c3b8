//! Who does what (design §2): the staff and integration roles.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Clerk,
    Officer,
    Leader,
    Viewer,
    Portal,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Clerk,
        Role::Officer,
        Role::Leader,
        Role::Viewer,
        Role::Portal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Clerk => "clerk",
            Role::Officer => "officer",
            Role::Leader => "leader",
            Role::Viewer => "viewer",
            Role::Portal => "portal",
        }
    }

    /// Officers and leaders work inside one handling unit.
    pub fn needs_unit(self) -> bool {
        matches!(self, Role::Officer | Role::Leader)
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role {s:?} (admin, clerk, officer, leader, viewer, portal)")
            })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
