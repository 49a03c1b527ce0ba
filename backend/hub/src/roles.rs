//! Permissions of a connection: the roles from its token or `connect` answer, plus grants made over
//! REST. Pure. Roles (Web PubSub's documented forms):
//! - `webpubsub.joinLeaveGroup` / `webpubsub.sendToGroup`: any group;
//! - `webpubsub.joinLeaveGroup.<group>` / `webpubsub.sendToGroup.<group>`: that group;
//! - `webpubsub.joinLeaveGroups.<pattern>` / `webpubsub.sendToGroups.<pattern>`: groups matching a
//!   wildcard pattern (`?` one character but `.`, `*` any run without `.`, `**` any run, `\` escapes).

/// What a permission allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Join or leave a group by itself.
    JoinLeave,
    /// Publish to a group.
    Send,
}

impl Action {
    /// The REST name (`joinLeaveGroup` / `sendToGroup`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "joinLeaveGroup" => Some(Self::JoinLeave),
            "sendToGroup" => Some(Self::Send),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    All,
    Group(String),
    Pattern(String),
}

/// One permission: an action on a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    action: Action,
    scope: Scope,
}

impl Permission {
    /// A REST grant: `group` `None` means every group.
    pub fn grant(action: Action, group: Option<&str>) -> Self {
        Self {
            action,
            scope: group.map_or(Scope::All, |g| Scope::Group(g.to_owned())),
        }
    }

    /// Parses a role string; unknown roles give `None` (and grant nothing).
    pub fn from_role(role: &str) -> Option<Self> {
        let parse = |prefix: &str, action: Action, pattern: bool| -> Option<Self> {
            let rest = role.strip_prefix(prefix)?;
            if rest.is_empty() {
                return (!pattern).then_some(Self {
                    action,
                    scope: Scope::All,
                });
            }
            let target = rest.strip_prefix('.')?;
            if target.is_empty() {
                return None;
            }
            Some(Self {
                action,
                scope: if pattern {
                    if target.matches('*').count() > 5 {
                        return None;
                    }
                    Scope::Pattern(target.to_owned())
                } else {
                    Scope::Group(target.to_owned())
                },
            })
        };
        // The plural (pattern) forms must be tried before their singular prefixes.
        parse("webpubsub.joinLeaveGroups", Action::JoinLeave, true)
            .or_else(|| parse("webpubsub.sendToGroups", Action::Send, true))
            .or_else(|| parse("webpubsub.joinLeaveGroup", Action::JoinLeave, false))
            .or_else(|| parse("webpubsub.sendToGroup", Action::Send, false))
    }

    /// Whether this permission allows `action` on `group`.
    pub fn allows(&self, action: Action, group: &str) -> bool {
        self.action == action
            && match &self.scope {
                Scope::All => true,
                Scope::Group(g) => g == group,
                Scope::Pattern(p) => wildcard_match(p, group),
            }
    }

    /// Whether this is exactly the REST grant of `action` on `group` (for revoke and check).
    pub fn is_grant(&self, action: Action, group: Option<&str>) -> bool {
        self.action == action
            && match (&self.scope, group) {
                (Scope::All, None) => true,
                (Scope::Group(g), Some(t)) => g == t,
                _ => false,
            }
    }
}

/// Whether any of `permissions` allows `action` on `group`.
pub fn allowed(permissions: &[Permission], action: Action, group: &str) -> bool {
    permissions.iter().any(|p| p.allows(action, group))
}

/// Matches Web PubSub's group wildcard patterns (case-sensitive).
fn wildcard_match(pattern: &str, text: &str) -> bool {
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Token {
        Char(char),
        One,
        Star,
        DoubleStar,
    }
    let mut tokens = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => tokens.push(Token::Char(escaped)),
                None => tokens.push(Token::Char('\\')),
            },
            '?' => tokens.push(Token::One),
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                tokens.push(Token::DoubleStar);
            }
            '*' => tokens.push(Token::Star),
            c => tokens.push(Token::Char(c)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    // Classic dynamic programming over (token, character) positions.
    let mut reach = vec![false; text.len() + 1];
    reach[0] = true;
    for token in &tokens {
        let mut next = vec![false; text.len() + 1];
        for i in 0..=text.len() {
            if !reach[i] {
                continue;
            }
            match token {
                Token::Char(c) => {
                    if text.get(i) == Some(c) {
                        next[i + 1] = true;
                    }
                }
                Token::One => {
                    if text.get(i).is_some_and(|c| *c != '.') {
                        next[i + 1] = true;
                    }
                }
                Token::Star | Token::DoubleStar => {
                    next[i] = true;
                    let mut j = i;
                    while j < text.len() && (*token == Token::DoubleStar || text[j] != '.') {
                        j += 1;
                        next[j] = true;
                    }
                }
            }
        }
        reach = next;
    }
    reach[text.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(roles: &[&str]) -> Vec<Permission> {
        roles
            .iter()
            .filter_map(|r| Permission::from_role(r))
            .collect()
    }

    #[test]
    fn hub_wide_roles_allow_every_group() {
        let p = perms(&["webpubsub.joinLeaveGroup", "webpubsub.sendToGroup"]);
        assert!(allowed(&p, Action::JoinLeave, "anything"));
        assert!(allowed(&p, Action::Send, "a.b"));
    }

    #[test]
    fn per_group_roles_allow_only_that_group_and_action() {
        let p = perms(&["webpubsub.sendToGroup.room1"]);
        assert!(allowed(&p, Action::Send, "room1"));
        assert!(!allowed(&p, Action::Send, "room2"));
        assert!(!allowed(&p, Action::JoinLeave, "room1"));
        // Group names may contain dots.
        let dotted = perms(&["webpubsub.joinLeaveGroup.a.b"]);
        assert!(allowed(&dotted, Action::JoinLeave, "a.b"));
    }

    #[test]
    fn no_roles_allow_nothing_and_unknown_roles_are_ignored() {
        assert!(!allowed(&[], Action::Send, "g"));
        assert!(perms(&["webpubsub.admin", "webpubsub.sendToGroup.", "x"]).is_empty());
    }

    #[test]
    fn wildcard_patterns_follow_the_documented_rules() {
        let p = perms(&["webpubsub.joinLeaveGroups.chat-*"]);
        assert!(allowed(&p, Action::JoinLeave, "chat-1"));
        assert!(allowed(&p, Action::JoinLeave, "chat-"));
        assert!(!allowed(&p, Action::JoinLeave, "chat-1.private"));
        let deep = perms(&["webpubsub.sendToGroups.org.**"]);
        assert!(allowed(&deep, Action::Send, "org.team.room"));
        assert!(!allowed(&deep, Action::Send, "other.team"));
        let one = perms(&["webpubsub.sendToGroups.room?"]);
        assert!(allowed(&one, Action::Send, "room7"));
        assert!(!allowed(&one, Action::Send, "room."));
        assert!(!allowed(&one, Action::Send, "room12"));
        let escaped = perms(&[r"webpubsub.sendToGroups.a\*b"]);
        assert!(allowed(&escaped, Action::Send, "a*b"));
        assert!(!allowed(&escaped, Action::Send, "axb"));
    }

    #[test]
    fn patterns_with_more_than_five_stars_are_refused() {
        assert!(Permission::from_role("webpubsub.sendToGroups.*.*.*.*.*.*").is_none());
        assert!(Permission::from_role("webpubsub.sendToGroups.*.*.*.*.*").is_some());
    }

    #[test]
    fn rest_grants_are_matched_exactly_for_revoke() {
        let grant = Permission::grant(Action::Send, Some("g1"));
        assert!(grant.is_grant(Action::Send, Some("g1")));
        assert!(!grant.is_grant(Action::Send, None));
        assert!(Permission::grant(Action::JoinLeave, None).is_grant(Action::JoinLeave, None));
    }
}
