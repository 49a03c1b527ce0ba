import { describe, expect, it } from 'vitest'
import { foldName, nameBook, peerOf, shortTag } from '../../../src/lib/names'
import type { Chat, User } from '../../../src/types'

const user = (id: string, name: string, provider = id.split(':')[0]): User => ({
  id,
  name,
  provider,
  presence: 'online',
})

describe('foldName', () => {
  it('treats case, width and compatibility forms as the same name', () => {
    expect(foldName('ADA')).toBe(foldName('ada'))
    expect(foldName('Ａｄａ')).toBe('ada') // full-width letters
    expect(foldName('ﬁona')).toBe('fiona') // ligature
    expect(foldName('  Ada ')).toBe('ada')
    expect(foldName('Ada')).not.toBe(foldName('Adam'))
  })
})

describe('shortTag', () => {
  it('is the provider and the last four characters of the id', () => {
    expect(shortTag(user('github:12345678', 'Ada'))).toBe('github·5678')
    expect(shortTag(user('local:9f3a0c1d', 'Ada'))).toBe('local·0c1d')
    expect(shortTag({ id: 'oidc:ab', provider: '' })).toBe('oidc·ab')
  })
})

describe('nameBook', () => {
  const people = [
    user('github:12345678', 'Ada'),
    user('local:9f3a0c1d', 'ada'),
    user('github:42', 'Bob'),
    user('microsoft:7', 'Ｃｙ'),
    user('local:8', 'Cy'),
  ]
  const book = nameBook(people)

  it('tags only names that collide with another user, case-insensitively after NFKC', () => {
    expect(book.label('github:12345678')).toBe('Ada · github·5678')
    expect(book.label('local:9f3a0c1d')).toBe('ada · local·0c1d')
    expect(book.label('github:42')).toBe('Bob')
    expect(book.label('microsoft:7')).toBe('Ｃｙ · microsoft·7')
    expect(book.label('local:8')).toBe('Cy · local·8')
    expect(book.label('github:12345678')).not.toBe(book.label('local:9f3a0c1d'))
  })

  it('always gives provider and full id on hover', () => {
    expect(book.title('github:42')).toBe('Bob — GitHub, github:42')
    expect(book.title('local:9f3a0c1d')).toBe('ada — This computer, local:9f3a0c1d')
  })

  it('shows unknown ids as they are, and one person under two entries is no collision', () => {
    expect(book.label('github:999')).toBe('github:999')
    const same = nameBook([user('github:1', 'Ada'), user('github:1', 'Ada')])
    expect(same.label('github:1')).toBe('Ada')
  })
})

describe('peerOf', () => {
  const chat = (owner: string, name: string): Chat => ({
    id: 'private-1',
    name,
    kind: 'private',
    owner,
    createdAt: 1,
  })
  const people = [user('local:me', 'Me'), user('local:a1', 'Ada'), user('local:a2', 'Ada')]

  it('knows the peer from the record, then the opener, then a unique name', () => {
    expect(peerOf(chat('local:me', 'Ada'), 'local:me', people, { 'private-1': 'local:a2' })).toBe(
      'local:a2',
    )
    expect(peerOf(chat('local:a1', 'Ada'), 'local:me', people, {})).toBe('local:a1')
    const unique = [user('local:me', 'Me'), user('local:b', 'Bob')]
    expect(peerOf(chat('local:me', 'Bob'), 'local:me', unique, {})).toBe('local:b')
  })

  it('does not guess between two people of the same name, nor for group chats', () => {
    expect(peerOf(chat('local:me', 'Ada'), 'local:me', people, {})).toBeNull()
    expect(peerOf({ ...chat('local:a1', 'Ada'), kind: 'group' }, 'local:me', people, {})).toBeNull()
  })
})
