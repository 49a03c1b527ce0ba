// The only module that talks to the Rust side: one typed function per command of
// src-tauri/CONTRACT.md, and `onUiEvent` for its one event. Components and composables call these;
// tests mock the IPC layer underneath (`@tauri-apps/api/mocks`).
import { invoke } from '@tauri-apps/api/core'
import { listen, type UnlistenFn } from '@tauri-apps/api/event'
import type {
  Account,
  AppStatus,
  Chat,
  ChatView,
  CommandError,
  DeviceCode,
  Message,
  Provider,
  Settings,
  UiEvent,
  User,
} from './types'

/** The event name Rust emits on (`ui_event::EVENT`). */
export const UI_EVENT = 'chatr://ui'

/** Turns whatever a failed `invoke` threw into a `CommandError`. */
export function toCommandError(err: unknown): CommandError {
  if (typeof err === 'object' && err !== null && 'kind' in err && 'message' in err) {
    return { kind: String(err.kind), message: String(err.message) }
  }
  return { kind: 'ipc', message: err instanceof Error ? err.message : String(err) }
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args)
  } catch (err) {
    throw toCommandError(err)
  }
}

// App and settings

/** The app's version and the backend's health (asks the backend over HTTP each time). */
export const getAppStatus = () => call<AppStatus>('get_app_status')
export const getSettings = () => call<Settings>('get_settings')
/** Saves; the answer says `restartNeeded` when a changed server applies at the next start. */
export const saveSettings = (settings: Settings) => call<Settings>('save_settings', { settings })
/** Opens an http(s) link in the system browser (anything else fails with `badUrl`). */
export const openInBrowser = (url: string) => call<void>('open_in_browser', { url })

// Sign-in

export const listProviders = () => call<Provider[]>('list_providers')
/** Signs in to the embedded backend under a display name. */
export const signInLocal = (name: string) => call<User>('sign_in_local', { name })
export const startDeviceLogin = (provider: string) =>
  call<DeviceCode>('start_device_login', { provider })
/** Resolves once the user approved; fails with `expired`, `denied`, `cancelled`, `offline`, `signIn`. */
export const finishDeviceLogin = () => call<User>('finish_device_login')
export const cancelDeviceLogin = () => call<void>('cancel_device_login')
export const listAccounts = () => call<Account[]>('list_accounts')
export const signInAccount = (accountId: string) => call<User>('sign_in_account', { accountId })
/** At start: the last account signed in silently, or null. */
export const restoreSession = () => call<User | null>('restore_session')
export const signOut = (forget: boolean) => call<void>('sign_out', { forget })

// Chats

/** Group chats and the user's private chats. */
export const listChats = () => call<ChatView[]>('list_chats')
/** Everyone, with presence. */
export const listUsers = () => call<User[]>('list_users')
export const createChat = (name: string) => call<Chat | null>('create_chat', { name })
export const joinChat = (chatId: string) => call<Chat | null>('join_chat', { chatId })
export const leaveChat = (chatId: string) => call<void>('leave_chat', { chatId })
/** Owner only (`forbidden` otherwise). */
export const deleteChat = (chatId: string) => call<void>('delete_chat', { chatId })
/** The pair's private chat, created on first use. */
export const openPrivateChat = (userId: string) => call<Chat>('open_private_chat', { userId })

/** Sends a message; resending with the same `clientKey` never duplicates it. */
export function sendMessage(chatId: string, clientKey: string, text: string): Promise<Message> {
  return call<Message>('send_message', { chatId, clientKey, text })
}

/** A page of history, oldest first: the latest, or the page before the message `before`. */
export function loadHistory(chatId: string, before?: number | null): Promise<Message[]> {
  return call<Message[]>('load_history', { chatId, before: before ?? null })
}

/** Best effort; the caller throttles it (at most every 3 s). */
export const sendTyping = (chatId: string) => call<void>('send_typing', { chatId })
/** The chat on screen, or null: Rust zeroes its unread count and mutes its notifications. */
export const setActiveChat = (chatId: string | null) => call<void>('set_active_chat', { chatId })

/** Subscribes to Rust's events; returns the function that unsubscribes. */
export function onUiEvent(handler: (event: UiEvent) => void): Promise<UnlistenFn> {
  return listen<UiEvent>(UI_EVENT, (e) => handler(e.payload))
}
