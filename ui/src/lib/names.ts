// Telling people apart by name: two users may pick the same display name (or names that look
// the same), so wherever a name is shown, one that collides with another known user's name gets
// a short, stable tag (provider and the end of the id: "Ada · github·1234"), and every name
// carries the provider and full id for its hover text. No Vue, no IPC.
import { strings } from '../strings'
import type { Chat, User } from '../types'
import { providerLabel } from './users'

/** What makes two names "the same" to a reader: NFKC (full-width, ligatures…), case, edges. */
export function foldName(name: string): string {
  return name.normalize('NFKC').toLowerCase().trim()
}

/** The provider of `user` (its own field, else the id's `provider:` prefix). */
function providerOf(user: Pick<User, 'id' | 'provider'>): string {
  if (user.provider) return user.provider
  const colon = user.id.indexOf(':')
  return colon > 0 ? user.id.slice(0, colon) : ''
}

/** The short tag of a user: provider, then the last 4 characters of the id after its prefix. */
export function shortTag(user: Pick<User, 'id' | 'provider'>): string {
  const provider = providerOf(user)
  const local = user.id.startsWith(`${provider}:`) ? user.id.slice(provider.length + 1) : user.id
  const tail = [...local].slice(-4).join('')
  return provider ? `${provider}·${tail}` : tail
}

/** How to show each known user's name. Unknown ids are shown as they are. */
export interface NameBook {
  /** The name, tagged when another known user's name folds to the same. */
  label(userId: string): string
  /** The hover text: name, provider and full id. */
  title(userId: string): string
}

/** A [`NameBook`] over everyone known now (`users`, which should include yourself). */
export function nameBook(users: readonly User[]): NameBook {
  const byId = new Map(users.map((u) => [u.id, u]))
  const idsByName = new Map<string, Set<string>>()
  for (const u of byId.values()) {
    const key = foldName(u.name)
    const ids = idsByName.get(key) ?? new Set<string>()
    ids.add(u.id)
    idsByName.set(key, ids)
  }
  const collides = (u: User) => (idsByName.get(foldName(u.name))?.size ?? 0) > 1
  return {
    label(userId) {
      const u = byId.get(userId)
      if (!u) return userId
      return collides(u) ? strings.names.disambiguated(u.name, shortTag(u)) : u.name
    },
    title(userId) {
      const u = byId.get(userId)
      if (!u) return userId
      return strings.names.title(u.name, providerLabel(providerOf(u)), u.id)
    },
  }
}

/**
 * The other person of a private chat: the one recorded when it was opened (`known`), else its
 * opener when that is not you, else the only other known user with the chat's name. `null` when
 * it cannot be told (then the chat's own name is shown as it is).
 */
export function peerOf(
  chat: Chat,
  meId: string | null,
  users: readonly User[],
  known: Readonly<Record<string, string>>,
): string | null {
  if (chat.kind !== 'private') return null
  const recorded = known[chat.id]
  if (recorded) return recorded
  if (chat.owner && chat.owner !== meId) return chat.owner
  const key = foldName(chat.name)
  const named = users.filter((u) => u.id !== meId && foldName(u.name) === key)
  return named.length === 1 ? named[0].id : null
}

/** A chat as shown: a private chat under its peer's (possibly tagged) name, with a hover text. */
export type ShownChat = Chat & { member: boolean; nameTitle?: string }

/** How `chat` is shown: private chats whose peer is known take the peer's label and title. */
export function showChat<T extends Chat & { member: boolean }>(
  chat: T,
  peer: string | null,
  book: NameBook,
): T & { nameTitle?: string } {
  if (!peer) return chat
  return { ...chat, name: book.label(peer), nameTitle: book.title(peer) }
}
