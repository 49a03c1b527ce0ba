import { describe, expect, it } from 'vitest'
import { mergeMessages, newClientKey } from '../../../src/lib/messages'
import type { Message } from '../../../src/types'

const m = (seq: number, text = `m${seq}`): Message => ({
  chatId: 'c',
  seq,
  from: 'u',
  text,
  sentAt: seq,
  clientKey: `k${seq}`,
})

describe('mergeMessages', () => {
  it('keeps one message per seq, in order, whatever order they arrive in', () => {
    const merged = mergeMessages([m(3), m(1)], [m(2), m(3), m(1)])
    expect(merged.map((x) => x.seq)).toEqual([1, 2, 3])
  })

  it('prefers the incoming copy of a seq', () => {
    expect(mergeMessages([m(1, 'old')], [m(1, 'new')])[0].text).toBe('new')
  })

  it('merges an older page in front', () => {
    expect(mergeMessages([m(5), m(6)], [m(3), m(4)]).map((x) => x.seq)).toEqual([3, 4, 5, 6])
  })
})

describe('newClientKey', () => {
  it('is unique per call', () => {
    expect(newClientKey()).not.toBe(newClientKey())
  })
})
