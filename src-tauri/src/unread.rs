//! Unread counts per chat: what the `unread` event and the tray badge show. Pure: it owns the
//! counting rules and nothing else. It must never emit, lock, touch the window or keep the view
//! itself (the shell passes the chat on screen and the window focus with each call).
//!
//! Rules:
//! - a message from someone else counts, unless its chat is on screen in a focused window;
//! - the user's own messages never count (other devices of the same user included);
//! - showing a chat in a focused window clears its count;
//! - a chat the user left, or one that was deleted, drops its count.
//!
//! Every mutation says whether anything changed, so the shell emits `unread` (and redraws the
//! tray) only on change.

use std::collections::BTreeMap;

use chatr_protocol::{Message, ServerEvent};

/// What the user is looking at: the chat on screen and whether the window has focus.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Screen<'a> {
    /// The chat on screen, if any (`set_active_chat`).
    pub active_chat: Option<&'a str>,
    /// Whether the main window has focus.
    pub focused: bool,
}

impl Screen<'_> {
    /// Whether the user sees `chat` right now: it is on screen and the window has focus.
    pub fn shows(&self, chat: &str) -> bool {
        self.focused && self.active_chat == Some(chat)
    }
}

/// Unread messages per chat id; chats with none are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unread {
    counts: BTreeMap<String, u32>,
}

impl Unread {
    /// Applies a push from the backend for the user `me`: counts messages, drops deleted chats
    /// and chats `me` left. Returns whether any count changed.
    pub fn on_event(&mut self, event: &ServerEvent, me: &str, screen: Screen<'_>) -> bool {
        match event {
            ServerEvent::Message { message } => self.on_message(message, me, screen),
            ServerEvent::ChatDeleted { chat_id } => self.forget(chat_id),
            ServerEvent::MemberLeft { chat_id, user_id } if user_id == me => self.forget(chat_id),
            _ => false,
        }
    }

    /// Counts `message` unless it is the user's own or its chat is on screen with focus.
    pub fn on_message(&mut self, message: &Message, me: &str, screen: Screen<'_>) -> bool {
        if message.from == me || screen.shows(&message.chat_id) {
            return false;
        }
        let count = self.counts.entry(message.chat_id.clone()).or_insert(0);
        let before = *count;
        *count = before.saturating_add(1);
        *count != before
    }

    /// The view changed (`set_active_chat`, or the window gained or lost focus): with focus, the
    /// chat on screen is read.
    pub fn set_active(&mut self, chat: Option<&str>, focused: bool) -> bool {
        match chat {
            Some(chat) if focused => self.forget(chat),
            _ => false,
        }
    }

    /// Drops the count of a chat the user left or that was deleted.
    pub fn forget(&mut self, chat: &str) -> bool {
        self.counts.remove(chat).is_some()
    }

    /// Drops every count (sign-out).
    pub fn clear(&mut self) -> bool {
        let changed = !self.counts.is_empty();
        self.counts.clear();
        changed
    }

    /// Unread messages per chat (chats with none are absent).
    pub fn counts(&self) -> &BTreeMap<String, u32> {
        &self.counts
    }

    /// Unread messages of one chat.
    pub fn count(&self, chat: &str) -> u32 {
        self.counts.get(chat).copied().unwrap_or(0)
    }

    /// Unread messages over all chats (what the tray shows).
    pub fn total(&self) -> u32 {
        self.counts
            .values()
            .fold(0u32, |sum, n| sum.saturating_add(*n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "local:me";
    const ADA: &str = "local:ada";

    fn message(chat: &str, from: &str) -> ServerEvent {
        ServerEvent::Message {
            message: Message {
                chat_id: chat.into(),
                seq: 1,
                from: from.into(),
                text: "hi".into(),
                sent_at: 0,
                client_key: "k".into(),
            },
        }
    }

    fn focused_on(chat: &str) -> Screen<'_> {
        Screen {
            active_chat: Some(chat),
            focused: true,
        }
    }

    #[test]
    fn a_message_from_someone_else_in_another_chat_counts() {
        let mut unread = Unread::default();
        assert!(unread.on_event(&message("c1", ADA), ME, focused_on("c2")));
        assert!(unread.on_event(&message("c1", ADA), ME, focused_on("c2")));
        assert_eq!(unread.count("c1"), 2);
        assert_eq!(unread.total(), 2);
    }

    #[test]
    fn a_message_in_the_chat_on_screen_does_not_count_while_focused() {
        let mut unread = Unread::default();
        assert!(!unread.on_event(&message("c1", ADA), ME, focused_on("c1")));
        assert_eq!(unread.total(), 0);
        assert!(unread.counts().is_empty());
    }

    #[test]
    fn any_chat_counts_while_the_window_is_unfocused() {
        let mut unread = Unread::default();
        let away = Screen {
            active_chat: Some("c1"),
            focused: false,
        };
        assert!(unread.on_event(&message("c1", ADA), ME, away));
        assert!(unread.on_event(&message("c2", ADA), ME, Screen::default()));
        assert_eq!(unread.total(), 2);
    }

    #[test]
    fn own_messages_never_count() {
        let mut unread = Unread::default();
        assert!(!unread.on_event(&message("c1", ME), ME, Screen::default()));
        assert!(!unread.on_event(&message("c1", ME), ME, focused_on("c2")));
        assert_eq!(unread.total(), 0);
    }

    #[test]
    fn showing_a_chat_with_focus_clears_it_and_only_it() {
        let mut unread = Unread::default();
        unread.on_event(&message("c1", ADA), ME, Screen::default());
        unread.on_event(&message("c2", ADA), ME, Screen::default());

        // On screen but the window is in the background: still unread.
        assert!(!unread.set_active(Some("c1"), false));
        assert_eq!(unread.count("c1"), 1);
        // Focus returns: read.
        assert!(unread.set_active(Some("c1"), true));
        assert_eq!(unread.count("c1"), 0);
        assert_eq!(unread.counts().keys().collect::<Vec<_>>(), ["c2"]);
        // Nothing left to clear: no change to report.
        assert!(!unread.set_active(Some("c1"), true));
        assert!(!unread.set_active(None, true));
        assert_eq!(unread.total(), 1);
    }

    #[test]
    fn a_deleted_or_left_chat_drops_its_count() {
        let mut unread = Unread::default();
        for chat in ["c1", "c2", "c3"] {
            unread.on_event(&message(chat, ADA), ME, Screen::default());
        }
        let deleted = ServerEvent::ChatDeleted {
            chat_id: "c1".into(),
        };
        assert!(unread.on_event(&deleted, ME, Screen::default()));
        assert!(!unread.on_event(&deleted, ME, Screen::default()));

        let i_left = ServerEvent::MemberLeft {
            chat_id: "c2".into(),
            user_id: ME.into(),
        };
        assert!(unread.on_event(&i_left, ME, Screen::default()));
        // Someone else leaving changes nothing for me.
        let ada_left = ServerEvent::MemberLeft {
            chat_id: "c3".into(),
            user_id: ADA.into(),
        };
        assert!(!unread.on_event(&ada_left, ME, Screen::default()));

        assert!(unread.forget("c3"));
        assert!(!unread.forget("c3"));
        assert_eq!(unread.total(), 0);
    }

    #[test]
    fn other_events_change_nothing_and_clear_reports_a_change_once() {
        let mut unread = Unread::default();
        let online = ServerEvent::UserIsIdle {
            user_id: ADA.into(),
        };
        assert!(!unread.on_event(&online, ME, Screen::default()));
        unread.on_event(&message("c1", ADA), ME, Screen::default());
        assert!(unread.clear());
        assert!(!unread.clear());
        assert_eq!(unread, Unread::default());
    }

    #[test]
    fn the_total_saturates_instead_of_overflowing() {
        let mut unread = Unread::default();
        unread.counts.insert("c1".into(), u32::MAX);
        unread.counts.insert("c2".into(), 5);
        assert_eq!(unread.total(), u32::MAX);
        assert!(!unread.on_event(&message("c1", ADA), ME, Screen::default()));
        assert_eq!(unread.count("c1"), u32::MAX);
    }
}
