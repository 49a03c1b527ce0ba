// Ordering and labels for the people list. No Vue, no IPC.
import { strings } from '../strings'
import type { Presence, User } from '../types'

const rank: Record<Presence, number> = { online: 0, idle: 1, offline: 2 }

/** Yourself first, then online, idle and offline people, each by name. */
export function sortUsers(users: readonly User[], meId: string | null): User[] {
  return [...users].sort((a, b) => {
    if (a.id === meId) return -1
    if (b.id === meId) return 1
    return rank[a.presence] - rank[b.presence] || a.name.localeCompare(b.name)
  })
}

/** The provider's name for people (`github` → GitHub); unknown ones as they are. */
export function providerLabel(provider: string): string {
  return strings.providers[provider] ?? provider
}

/** A user's presence changed: the new list (unknown users are not invented). */
export function withPresence(users: readonly User[], userId: string, presence: Presence): User[] {
  return users.map((u) => (u.id === userId ? { ...u, presence } : u))
}

/** Adds or replaces a user. */
export function upsertUser(users: readonly User[], user: User): User[] {
  const i = users.findIndex((u) => u.id === user.id)
  if (i < 0) return [...users, user]
  const next = [...users]
  next[i] = user
  return next
}
