import { describe, expect, it } from 'vitest'
import { buildRows, GROUP_GAP_MS } from '../../../src/lib/timeline'
import type { Pending } from '../../../src/lib/messages'
import type { Message } from '../../../src/types'

const day = new Date(2026, 10, 25, 12, 0).getTime()
const m = (seq: number, from: string, sentAt: number): Message => ({
  chatId: 'c',
  seq,
  from,
  text: `m${seq}`,
  sentAt,
  clientKey: `k${seq}`,
})

describe('buildRows', () => {
  it('puts a day separator before each new day', () => {
    const rows = buildRows([m(1, 'a', day - 86_400_000), m(2, 'a', day)], [], [], 'me', day)
    expect(rows.map((r) => r.kind)).toEqual(['day', 'message', 'day', 'message'])
    expect(rows[2]).toMatchObject({ kind: 'day', label: 'Today' })
    expect(rows[0]).toMatchObject({ kind: 'day', label: 'Yesterday' })
  })

  it('groups consecutive messages of one sender, not across a long gap', () => {
    const rows = buildRows(
      [
        m(1, 'a', day),
        m(2, 'a', day + 60_000),
        m(3, 'b', day + 120_000),
        m(4, 'b', day + 120_000 + GROUP_GAP_MS + 1),
      ],
      [],
      [],
      'me',
      day,
    ).filter((r) => r.kind === 'message')
    expect(rows.map((r) => (r.kind === 'message' ? r.first : null))).toEqual([
      true,
      false,
      true,
      true,
    ])
  })

  it('marks my own messages', () => {
    const rows = buildRows([m(1, 'me', day), m(2, 'a', day)], [], [], 'me', day)
    expect(
      rows.filter((r) => r.kind === 'message').map((r) => r.kind === 'message' && r.mine),
    ).toEqual([true, false])
  })

  it('places system lines by time and breaks groups', () => {
    const rows = buildRows(
      [m(1, 'a', day), m(2, 'a', day + 2000)],
      [],
      [{ id: 1, text: 'Bob has joined', at: day + 1000 }],
      'me',
      day,
    )
    expect(rows.map((r) => r.kind)).toEqual(['day', 'message', 'system', 'message'])
    expect(rows[3]).toMatchObject({ first: true })
  })

  it('puts pending messages last, grouped with my last message', () => {
    const pending: Pending = {
      chatId: 'c',
      clientKey: 'p1',
      text: 'hi',
      createdAt: day + 1000,
      status: 'sending',
      error: null,
    }
    const rows = buildRows([m(1, 'me', day)], [pending], [], 'me', day)
    expect(rows.map((r) => r.key)).toEqual([expect.stringMatching(/^day-/), 'm-1', 'p-p1'])
    expect(rows[2]).toMatchObject({ kind: 'pending', first: false })
  })

  it('gives every row a stable, unique key', () => {
    const rows = buildRows(
      [m(1, 'a', day), m(2, 'b', day)],
      [],
      [{ id: 7, text: 's', at: day + 5 }],
      'me',
      day,
    )
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length)
  })
})
