// Types that mirror the Rust side (chatr-protocol and the desktop commands in
// src-tauri/CONTRACT.md). Keep in step with Rust.

/** `chatr_protocol::Health`: the body of `GET /api/health`. */
export interface Health {
  status: 'ok' | 'degraded'
  service: string
  version: string
}

/** Where the backend comes from. */
/** `joined`: the embedded backend another Chatr instance on this machine runs. */
export type BackendMode = 'embedded' | 'joined' | 'remote'

/** `get_app_status`: this app's version and the backend's health, asked just now. */
export interface AppStatus {
  appVersion: string
  backendUrl: string
  backendMode: BackendMode
  backend: Health
}

/**
 * The error every command returns. `kind` is stable (`expired`, `denied`, `cancelled`, `offline`,
 * `signIn`, `forbidden`, `tooLarge`, `rateLimited`, `badUrl`, `badRequest`, `notFound`, …);
 * `ipc` is the UI's own kind for a failure that did not come from a command.
 */
export interface CommandError {
  kind: string
  message: string
}

export type Presence = 'online' | 'idle' | 'offline'

/** A user as others see them (`chatr_protocol::User`). */
export interface User {
  id: string
  name: string
  provider: string
  presence: Presence
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

/** `list_providers`: a way to sign in that the backend accepts. */
export interface Provider {
  name: string
  kind: 'local' | 'github' | 'microsoft' | 'oidc'
  label: string
}

/** `start_device_login`: what the device code view shows. `expiresAt` is ms since the epoch. */
export interface DeviceCode {
  provider: string
  userCode: string
  verificationUri: string
  verificationUriComplete: string | null
  expiresAt: number
}

/** `list_accounts`: a remembered account (its refresh token lives in the OS keyring). */
export interface Account {
  id: string
  userId: string
  name: string
  provider: string
  server: string
  lastUsed: number
}

export type Theme = 'system' | 'light' | 'dark'

/** `get_settings` / `save_settings`. `restartNeeded` is ignored on the way in. */
export interface Settings {
  serverUrl: string | null
  idleThresholdSecs: number
  notifications: boolean
  doNotDisturb: boolean
  theme: Theme
  restartNeeded: boolean
}

/** A push from the backend (`chatr_protocol::ServerEvent`), as far as the UI uses it. */
export type ServerEvent =
  | { chatEvent: 'ready'; data: Record<string, never> }
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

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed'

/** The one event Rust sends the UI (`ui_event::UiEvent`), on `chatr://ui`. */
export type UiEvent =
  | { type: 'connection'; data: { state: ConnectionState; detail: string | null } }
  | { type: 'server'; data: ServerEvent }
  | { type: 'typing'; data: { chatId: string; userId: string } }
  | { type: 'unread'; data: { counts: Record<string, number>; total: number } }
  | { type: 'openChat'; data: { chatId: string } }
  | { type: 'signedOut'; data: { reason: string | null } }
