import { describe, expect, it } from 'vitest'
import {
  mergeMessages,
  newClientKey,
  sendErrorText,
  unsettled,
  type Pending,
} from '../../../src/lib/messages'
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

describe('unsettled', () => {
  const p = (clientKey: string): Pending => ({
    chatId: 'c',
    clientKey,
    text: 't',
    createdAt: 0,
    status: 'sending',
    error: null,
  })

  it('drops the pending message whose stored copy arrived (same clientKey)', () => {
    expect(unsettled([p('k1'), p('k9')], [m(1)]).map((x) => x.clientKey)).toEqual(['k9'])
  })

  it('keeps everything when nothing matches', () => {
    expect(unsettled([p('a')], [m(1)])).toHaveLength(1)
    expect(unsettled([], [m(1)])).toEqual([])
  })
})

describe('sendErrorText', () => {
  it('explains the kinds Rust names, and passes other messages through', () => {
    expect(sendErrorText({ kind: 'tooLarge', message: 'x' })).toMatch(/too long/i)
    expect(sendErrorText({ kind: 'offline', message: 'x' })).toMatch(/cannot be reached/)
    expect(sendErrorText({ kind: 'weird', message: 'as Rust said' })).toBe('as Rust said')
  })
})
