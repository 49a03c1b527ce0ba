// Every user-visible string, grouped by area. Functions for text that takes parameters.
import type { BackendMode } from './types'

const modeName: Record<BackendMode, string> = {
  embedded: 'Embedded backend',
  remote: 'Backend',
}

export const strings = {
  app: {
    name: 'Chatr',
    tagline: 'Group and private chats, on Azure Web PubSub or on this computer alone.',
    version: (v: string) => `Chatr ${v}`,
  },
  status: {
    label: 'Connection status',
    checking: 'Checking the backend…',
    ok: (mode: BackendMode, url: string, service: string, version: string) =>
      `${modeName[mode]} at ${url} is up (${service} ${version})`,
    degraded: (mode: BackendMode, url: string) => `${modeName[mode]} at ${url} is up but degraded`,
    failed: (message: string) => `Backend unreachable: ${message}`,
    retry: 'Retry',
  },
  signIn: {
    title: 'Sign in to Chatr',
    nameLabel: 'Your name',
    namePlaceholder: 'John Smith',
    submit: 'Sign in',
    busy: 'Signing in…',
    help: 'Everyone using this computer’s Chatr sees this name.',
  },
  chats: {
    title: 'Group Chats',
    empty: 'No group chats yet. Create one!',
    newName: 'Chat name',
    create: 'New chat',
    join: 'Join',
    pickOne: 'Pick a chat on the left, or create one.',
  },
  users: {
    title: 'People',
    you: '(you)',
    presence: { online: 'online', idle: 'idle', offline: 'offline' },
  },
  messages: {
    composerLabel: 'Message',
    placeholder: 'What do you want to say?',
    send: 'Send',
    empty: 'No messages yet.',
    failed: 'Not sent',
  },
  connection: {
    connecting: 'Connecting…',
    reconnecting: 'Connection lost, reconnecting…',
    closed: 'Disconnected.',
  },
} as const
