import { describe, expect, it } from 'vitest'
import {
  charCount,
  checkChatName,
  isHttpUrl,
  isIdleThreshold,
  lengthState,
  MESSAGE_MAX,
} from '../../../src/lib/validate'

describe('checkChatName', () => {
  it('trims, and refuses an empty name', () => {
    expect(checkChatName('  Rust  ')).toEqual({ ok: true, name: 'Rust' })
    expect(checkChatName('   ')).toEqual({ ok: false, error: 'required' })
  })

  it('allows 50 characters and no more, counting characters not UTF-16 units', () => {
    expect(checkChatName('x'.repeat(50)).ok).toBe(true)
    expect(checkChatName('x'.repeat(51))).toEqual({ ok: false, error: 'tooLong' })
    expect(checkChatName('😀'.repeat(50)).ok).toBe(true)
  })
})

describe('charCount and lengthState', () => {
  it('counts code points', () => {
    expect(charCount('a😀b')).toBe(3)
  })

  it('is quiet far from the limit, warns near it, and says when it is over', () => {
    expect(lengthState('hi')).toEqual({ count: 2, near: false, over: false })
    expect(lengthState('x'.repeat(MESSAGE_MAX - 10))).toMatchObject({ near: true, over: false })
    expect(lengthState('x'.repeat(MESSAGE_MAX))).toMatchObject({ over: false })
    expect(lengthState('x'.repeat(MESSAGE_MAX + 1))).toMatchObject({ over: true })
  })
})

describe('isHttpUrl', () => {
  it('accepts http(s) addresses with a host', () => {
    expect(isHttpUrl('https://chat.example.com')).toBe(true)
    expect(isHttpUrl(' http://127.0.0.1:8080/ ')).toBe(true)
  })

  it('refuses other schemes and non-addresses', () => {
    for (const bad of ['ftp://x', 'javascript:alert(1)', 'chat.example.com', '', 'http://'])
      expect(isHttpUrl(bad)).toBe(false)
  })
})

describe('isIdleThreshold', () => {
  it('takes whole seconds from 10 to 3600', () => {
    expect(isIdleThreshold(60)).toBe(true)
    expect(isIdleThreshold(10)).toBe(true)
    expect(isIdleThreshold(3600)).toBe(true)
    expect(isIdleThreshold(9)).toBe(false)
    expect(isIdleThreshold(3601)).toBe(false)
    expect(isIdleThreshold(12.5)).toBe(false)
    expect(isIdleThreshold(Number.NaN)).toBe(false)
  })
})
