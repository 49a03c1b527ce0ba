// Types that mirror the Rust side (chatr-protocol and the desktop commands). Keep in step with Rust.

/** `chatr_protocol::Health`: the body of `GET /api/health`. */
export interface Health {
  status: 'ok' | 'degraded'
  service: string
  version: string
}

/** Where the backend comes from. */
export type BackendMode = 'embedded' | 'remote'

/** `get_app_status`: this app's version and the backend's health, asked just now. */
export interface AppStatus {
  appVersion: string
  backendUrl: string
  backendMode: BackendMode
  backend: Health
}

/** The error every command returns. */
export interface CommandError {
  kind: string
  message: string
}

/** A user as others see them (`chatr_protocol::User`). */
export interface User {
  id: string
  name: string
  provider: string
  presence: 'online' | 'idle' | 'offline'
}

/** A chat (`chatr_protocol::Chat`). */
export interface Chat {
  id: string
  name: string
  kind: 'group' | 'private'
  owner: string
  createdAt: number
}

/** A chat as the caller sees it (`chatr_protocol::ChatView`). */
export interface ChatView extends Chat {
  member: boolean
}

/** A stored message (`chatr_protocol::Message`). */
export interface Message {
  chatId: string
  seq: number
  from: string
  text: string
  sentAt: number
  clientKey: string
}

/** A push from the backend (`chatr_protocol::ServerEvent`), as far as the UI uses it. */
export type ServerEvent =
  | { chatEvent: 'chatCreated'; data: { chat: Chat } }
  | { chatEvent: 'chatDeleted'; data: { chatId: string } }
  | { chatEvent: 'userOnline'; data: { user: User } }
  | { chatEvent: 'userOffline'; data: { userId: string } }
  | { chatEvent: 'userIsIdle'; data: { userId: string } }
  | { chatEvent: 'userNotIdle'; data: { userId: string } }
  | { chatEvent: 'memberJoined'; data: { chatId: string; user: User } }
  | { chatEvent: 'memberLeft'; data: { chatId: string; userId: string } }
  | { chatEvent: 'message'; data: { message: Message } }
  | { chatEvent: 'joinPrivateChat'; data: { chat: Chat; grabFocus: boolean } }

/** The one event Rust sends the UI (`ui_event::UiEvent`). */
export type UiEvent =
  | { type: 'connection'; data: { state: ConnectionState; detail: string | null } }
  | { type: 'server'; data: ServerEvent }

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed'
