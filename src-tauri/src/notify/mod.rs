//! Which pushes from the backend become an OS notification, and what it says. Pure policy: a
//! [`ServerEvent`] plus the context (who I am, what is on screen, the settings, a name lookup) in,
//! an `Option<`[`Notification`]`>` out. It must never show anything, lock, or touch the window:
//! [`desktop`] shows what this decides, [`alerts`] wires both to the app.
//!
//! Rules:
//! - nothing with notifications off or under do-not-disturb;
//! - a private chat someone else opened with the user (`joinPrivateChat`, `grabFocus: false`);
//! - a message from someone else, unless its chat is on screen in a focused window;
//! - never the user's own messages (their other devices included).
//!
//! Text is plain: the body is the message as typed (Markdown is not interpreted), cut to
//! [`BODY_MAX_CHARS`] on a character boundary, with control characters removed. Escaping for
//! servers that read markup is the shell's job ([`desktop::escape_markup`]).

pub(crate) mod alerts;
pub mod desktop;

use std::collections::HashMap;

use chatr_protocol::{Chat, ChatKind, ChatView, ServerEvent, User};

use crate::settings::Settings;
use crate::unread::Screen;

/// Longest body, in characters (the ellipsis included).
pub const BODY_MAX_CHARS: usize = 140;
/// Longest title, in characters (the ellipsis included). Names are at most 64 characters; a
/// group chat's title holds two.
pub const TITLE_MAX_CHARS: usize = 100;

/// An OS notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The chat a click opens.
    pub chat_id: String,
    /// The first line: who, and where.
    pub title: String,
    /// Plain text: the message (shortened), or what happened.
    pub body: String,
}

/// The user's notification settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefs {
    /// OS notifications on.
    pub notifications: bool,
    /// Do not disturb: no notifications, whatever `notifications` says.
    pub do_not_disturb: bool,
}

impl Prefs {
    /// Whether any notification may be shown.
    pub fn allow(self) -> bool {
        self.notifications && !self.do_not_disturb
    }
}

impl From<&Settings> for Prefs {
    fn from(settings: &Settings) -> Self {
        Self {
            notifications: settings.notifications,
            do_not_disturb: settings.do_not_disturb,
        }
    }
}

/// Looks up display names for titles.
pub trait Names {
    /// A user's display name.
    fn user(&self, id: &str) -> Option<&str>;
    /// A chat's name (private chats: named after the other user) and kind.
    fn chat(&self, id: &str) -> Option<(&str, ChatKind)>;
}

/// Everything [`decide`] needs besides the event.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The signed-in user's id.
    pub me: &'a str,
    /// The chat on screen and the window focus.
    pub screen: Screen<'a>,
    /// The notification settings.
    pub prefs: Prefs,
    /// Display names.
    pub names: &'a dyn Names,
}

/// The notification `event` calls for, if any.
pub fn decide(event: &ServerEvent, cx: &Context<'_>) -> Option<Notification> {
    if !cx.prefs.allow() {
        return None;
    }
    match event {
        ServerEvent::JoinPrivateChat {
            chat,
            grab_focus: false,
        } if !cx.screen.shows(&chat.id) => Some(Notification {
            chat_id: chat.id.clone(),
            title: shorten(&chat.name, TITLE_MAX_CHARS),
            body: PRIVATE_CHAT_BODY.to_owned(),
        }),
        ServerEvent::Message { message }
            if message.from != cx.me && !cx.screen.shows(&message.chat_id) =>
        {
            Some(Notification {
                chat_id: message.chat_id.clone(),
                title: shorten(
                    &message_title(cx.names, &message.from, &message.chat_id),
                    TITLE_MAX_CHARS,
                ),
                body: shorten(&message.text, BODY_MAX_CHARS),
            })
        }
        _ => None,
    }
}

/// The body of a private chat request.
const PRIVATE_CHAT_BODY: &str = "Started a private chat with you";
/// The title when the sender's name is unknown.
const SOMEONE: &str = "New message";

/// `Ada` (private chat), `Ada in Team` (group chat), with fallbacks for unknown names.
fn message_title(names: &dyn Names, from: &str, chat: &str) -> String {
    let sender = names.user(from);
    match (sender, names.chat(chat)) {
        (Some(sender), Some((_, ChatKind::Private)) | None) => sender.to_owned(),
        (Some(sender), Some((chat, ChatKind::Group))) => format!("{sender} in {chat}"),
        // The backend names a private chat after the other user: that is the sender.
        (None, Some((chat, ChatKind::Private))) => chat.to_owned(),
        (None, Some((chat, ChatKind::Group))) => format!("{SOMEONE} in {chat}"),
        (None, None) => SOMEONE.to_owned(),
    }
}

/// Plain text for a notification: control characters dropped (tabs become spaces, line breaks
/// stay), trimmed, and cut to `max` characters with an ellipsis, on a character boundary.
pub fn shorten(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .filter_map(|c| match c {
            '\n' => Some('\n'),
            '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect();
    let clean = clean.trim();
    if clean.chars().count() <= max {
        return clean.to_owned();
    }
    let mut cut: String = clean.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// Display names learnt from the lists the UI loads and from pushes: enough for titles.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    users: HashMap<String, String>,
    chats: HashMap<String, (String, ChatKind)>,
}

impl Directory {
    /// Learns names from the answer of `list_users`.
    pub fn learn_users(&mut self, users: &[User]) {
        for user in users {
            self.users.insert(user.id.clone(), user.name.clone());
        }
    }

    /// Learns names from the answer of `list_chats`.
    pub fn learn_chats(&mut self, chats: &[ChatView]) {
        for view in chats {
            self.learn_chat(&view.chat);
        }
    }

    /// Learns a chat's name and kind.
    pub fn learn_chat(&mut self, chat: &Chat) {
        self.chats
            .insert(chat.id.clone(), (chat.name.clone(), chat.kind));
    }

    /// Learns what a push tells about names; forgets deleted chats.
    pub fn learn(&mut self, event: &ServerEvent) {
        match event {
            ServerEvent::ChatCreated { chat } | ServerEvent::JoinPrivateChat { chat, .. } => {
                self.learn_chat(chat);
            }
            ServerEvent::ChatDeleted { chat_id } => {
                self.chats.remove(chat_id);
            }
            ServerEvent::UserOnline { user } | ServerEvent::MemberJoined { user, .. } => {
                self.users.insert(user.id.clone(), user.name.clone());
            }
            _ => {}
        }
    }
}

impl Names for Directory {
    fn user(&self, id: &str) -> Option<&str> {
        self.users.get(id).map(String::as_str)
    }

    fn chat(&self, id: &str) -> Option<(&str, ChatKind)> {
        self.chats
            .get(id)
            .map(|(name, kind)| (name.as_str(), *kind))
    }
}

#[cfg(test)]
mod tests {
    use chatr_protocol::{Message, Presence};

    use super::*;

    const ME: &str = "local:me";
    const ADA: &str = "local:ada";

    fn directory() -> Directory {
        let mut names = Directory::default();
        names.learn_users(&[User {
            id: ADA.into(),
            name: "Ada".into(),
            provider: "local".into(),
            presence: Presence::Online,
        }]);
        names.learn_chats(&[
            ChatView {
                chat: chat("team", "Team", ChatKind::Group),
                member: true,
            },
            ChatView {
                chat: chat("private:ada", "Ada", ChatKind::Private),
                member: true,
            },
        ]);
        names
    }

    fn chat(id: &str, name: &str, kind: ChatKind) -> Chat {
        Chat {
            id: id.into(),
            name: name.into(),
            kind,
            owner: ADA.into(),
            created_at: 0,
        }
    }

    fn message(chat: &str, from: &str, text: &str) -> ServerEvent {
        ServerEvent::Message {
            message: Message {
                chat_id: chat.into(),
                seq: 1,
                from: from.into(),
                text: text.into(),
                sent_at: 0,
                client_key: "k".into(),
            },
        }
    }

    const ON: Prefs = Prefs {
        notifications: true,
        do_not_disturb: false,
    };

    fn decide_with(event: &ServerEvent, screen: Screen<'_>, prefs: Prefs) -> Option<Notification> {
        let names = directory();
        decide(
            event,
            &Context {
                me: ME,
                screen,
                prefs,
                names: &names,
            },
        )
    }

    fn focused_on(chat: &str) -> Screen<'_> {
        Screen {
            active_chat: Some(chat),
            focused: true,
        }
    }

    #[test]
    fn a_message_in_a_chat_not_on_screen_notifies_with_sender_and_chat() {
        let shown = decide_with(&message("team", ADA, "lunch?"), focused_on("other"), ON);
        assert_eq!(
            shown,
            Some(Notification {
                chat_id: "team".into(),
                title: "Ada in Team".into(),
                body: "lunch?".into(),
            })
        );
        let private = decide_with(&message("private:ada", ADA, "hi"), Screen::default(), ON);
        assert_eq!(private.map(|n| n.title), Some("Ada".into()));
    }

    #[test]
    fn the_chat_on_screen_notifies_only_while_the_window_is_unfocused() {
        let event = message("team", ADA, "hi");
        assert_eq!(decide_with(&event, focused_on("team"), ON), None);
        let away = Screen {
            active_chat: Some("team"),
            focused: false,
        };
        assert!(decide_with(&event, away, ON).is_some());
    }

    #[test]
    fn own_messages_never_notify() {
        let event = message("team", ME, "sent from my phone");
        assert_eq!(decide_with(&event, Screen::default(), ON), None);
        assert_eq!(decide_with(&event, focused_on("other"), ON), None);
    }

    #[test]
    fn nothing_notifies_when_notifications_are_off_or_under_do_not_disturb() {
        let invite = ServerEvent::JoinPrivateChat {
            chat: chat("private:ada", "Ada", ChatKind::Private),
            grab_focus: false,
        };
        for prefs in [
            Prefs {
                notifications: false,
                do_not_disturb: false,
            },
            Prefs {
                notifications: true,
                do_not_disturb: true,
            },
            Prefs {
                notifications: false,
                do_not_disturb: true,
            },
        ] {
            assert_eq!(
                decide_with(&message("team", ADA, "hi"), Screen::default(), prefs),
                None
            );
            assert_eq!(decide_with(&invite, Screen::default(), prefs), None);
        }
    }

    #[test]
    fn a_private_chat_someone_else_opened_notifies_but_not_the_one_i_opened() {
        let theirs = ServerEvent::JoinPrivateChat {
            chat: chat("private:ada", "Ada", ChatKind::Private),
            grab_focus: false,
        };
        assert_eq!(
            decide_with(&theirs, Screen::default(), ON),
            Some(Notification {
                chat_id: "private:ada".into(),
                title: "Ada".into(),
                body: PRIVATE_CHAT_BODY.into(),
            })
        );
        let mine = ServerEvent::JoinPrivateChat {
            chat: chat("private:ada", "Ada", ChatKind::Private),
            grab_focus: true,
        };
        assert_eq!(decide_with(&mine, Screen::default(), ON), None);
    }

    #[test]
    fn other_events_never_notify() {
        for event in [
            ServerEvent::ChatCreated {
                chat: chat("c", "C", ChatKind::Group),
            },
            ServerEvent::UserIsIdle {
                user_id: ADA.into(),
            },
            ServerEvent::Ready {},
        ] {
            assert_eq!(decide_with(&event, Screen::default(), ON), None);
        }
    }

    #[test]
    fn the_body_is_plain_text_as_typed_without_markup_interpreted() {
        let text = "**bold** <b>tag</b> & [link](http://x) `code`";
        let shown = decide_with(&message("team", ADA, text), Screen::default(), ON);
        assert_eq!(shown.map(|n| n.body), Some(text.to_owned()));
    }

    #[test]
    fn a_long_body_is_cut_on_a_character_boundary_with_an_ellipsis() {
        let text = "é".repeat(300);
        let body = decide_with(&message("team", ADA, &text), Screen::default(), ON)
            .map(|n| n.body)
            .unwrap_or_default();
        assert_eq!(body.chars().count(), BODY_MAX_CHARS);
        assert!(body.ends_with('…'));
        assert!(body.starts_with("éé"));

        let emoji = "👋".repeat(BODY_MAX_CHARS);
        assert_eq!(shorten(&emoji, BODY_MAX_CHARS), emoji);
        let longer = format!("{emoji}!");
        let cut = shorten(&longer, BODY_MAX_CHARS);
        assert_eq!(cut.chars().count(), BODY_MAX_CHARS);
        assert_eq!(cut.chars().nth(BODY_MAX_CHARS - 2), Some('👋'));
    }

    #[test]
    fn control_characters_are_dropped_and_line_breaks_kept() {
        assert_eq!(
            shorten("  a\u{7}b\tc\r\nd \u{1b}[31m ", 140),
            "ab c\nd [31m"
        );
        assert_eq!(shorten("word  and more", 6), "word…");
        assert_eq!(shorten("", 10), "");
    }

    #[test]
    fn unknown_names_fall_back_to_what_is_known() {
        let names = Directory::default();
        assert_eq!(message_title(&names, "x", "y"), SOMEONE);
        let names = directory();
        assert_eq!(
            message_title(&names, "local:bob", "team"),
            "New message in Team"
        );
        assert_eq!(message_title(&names, "local:bob", "private:ada"), "Ada");
        assert_eq!(message_title(&names, ADA, "unknown"), "Ada");
    }

    #[test]
    fn the_directory_learns_from_pushes_and_forgets_deleted_chats() {
        let mut names = Directory::default();
        names.learn(&ServerEvent::ChatCreated {
            chat: chat("c1", "Plans", ChatKind::Group),
        });
        names.learn(&ServerEvent::MemberJoined {
            chat_id: "c1".into(),
            user: User {
                id: "local:bob".into(),
                name: "Bob".into(),
                provider: "local".into(),
                presence: Presence::Online,
            },
        });
        assert_eq!(names.chat("c1"), Some(("Plans", ChatKind::Group)));
        assert_eq!(names.user("local:bob"), Some("Bob"));
        names.learn(&ServerEvent::ChatDeleted {
            chat_id: "c1".into(),
        });
        assert_eq!(names.chat("c1"), None);
    }

    #[test]
    fn prefs_follow_the_settings() {
        let mut settings = Settings::default();
        assert!(Prefs::from(&settings).allow());
        settings.do_not_disturb = true;
        assert!(!Prefs::from(&settings).allow());
    }
}
