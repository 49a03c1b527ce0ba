// The only module that talks to the Rust side. Components and composables call these typed
// functions; tests mock the IPC layer underneath (`@tauri-apps/api/mocks`).
import { invoke } from '@tauri-apps/api/core'
import { listen, type UnlistenFn } from '@tauri-apps/api/event'
import type { AppStatus, Chat, ChatView, CommandError, Message, UiEvent, User } from './types'

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

/** The app's version and the backend's health (asks the backend over HTTP each time). */
export function getAppStatus(): Promise<AppStatus> {
  return call<AppStatus>('get_app_status')
}

/** Signs in to the embedded backend under a display name. */
export function signInLocal(name: string): Promise<User> {
  return call<User>('sign_in_local', { name })
}

/** Group chats and the user's private chats. */
export function listChats(): Promise<ChatView[]> {
  return call<ChatView[]>('list_chats')
}

/** Everyone, with presence. */
export function listUsers(): Promise<User[]> {
  return call<User[]>('list_users')
}

/** Creates a group chat. */
export function createChat(name: string): Promise<Chat | null> {
  return call<Chat | null>('create_chat', { name })
}

/** Joins a group chat. */
export function joinChat(chatId: string): Promise<Chat | null> {
  return call<Chat | null>('join_chat', { chatId })
}

/** Sends a message; resending with the same `clientKey` never duplicates it. */
export function sendMessage(
  chatId: string,
  clientKey: string,
  text: string,
): Promise<Message | null> {
  return call<Message | null>('send_message', { chatId, clientKey, text })
}

/** A page of history, oldest first. */
export function loadHistory(chatId: string, before?: number): Promise<Message[]> {
  return call<Message[]>('load_history', { chatId, before: before ?? null })
}

/** Subscribes to Rust's events; returns the function that unsubscribes. */
export function onUiEvent(handler: (event: UiEvent) => void): Promise<UnlistenFn> {
  return listen<UiEvent>(UI_EVENT, (e) => handler(e.payload))
}
