import { describe, expect, it } from 'vitest'
import { providerLabel, sortUsers, upsertUser, withPresence } from '../../../src/lib/users'
import type { User } from '../../../src/types'

const u = (id: string, name: string, presence: User['presence']): User => ({
  id,
  name,
  provider: 'local',
  presence,
})

describe('sortUsers', () => {
  it('puts me first, then online, idle, offline, each by name', () => {
    const users = [
      u('z', 'Zed', 'offline'),
      u('b', 'Bob', 'idle'),
      u('me', 'Me', 'idle'),
      u('a', 'Al', 'online'),
      u('c', 'Cy', 'online'),
    ]
    expect(sortUsers(users, 'me').map((x) => x.id)).toEqual(['me', 'a', 'c', 'b', 'z'])
  })
})

describe('presence updates', () => {
  it('changes the named user only and never invents one', () => {
    const users = [u('a', 'Al', 'online')]
    expect(withPresence(users, 'a', 'idle')[0].presence).toBe('idle')
    expect(withPresence(users, 'ghost', 'idle')).toEqual(users)
  })

  it('adds or replaces a user', () => {
    expect(upsertUser([u('a', 'Al', 'online')], u('a', 'Al2', 'idle'))).toEqual([
      u('a', 'Al2', 'idle'),
    ])
    expect(upsertUser([], u('a', 'Al', 'online'))).toHaveLength(1)
  })
})

describe('providerLabel', () => {
  it('names known providers and passes others through', () => {
    expect(providerLabel('github')).toBe('GitHub')
    expect(providerLabel('microsoft')).toBe('Microsoft')
    expect(providerLabel('keycloak')).toBe('keycloak')
  })
})
