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
} as const
