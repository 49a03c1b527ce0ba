import { describe, expect, it } from 'vitest'
import { dayKey, formatCountdown, formatDay, formatTime } from '../../../src/lib/format'

const now = new Date(2026, 10, 25, 15, 30).getTime()

describe('format', () => {
  it('keys days by local date', () => {
    expect(dayKey(new Date(2026, 0, 5, 23, 59).getTime())).toBe('2026-01-05')
  })

  it('shows times as 24-hour HH:MM', () => {
    expect(formatTime(new Date(2026, 0, 5, 9, 7).getTime())).toBe('09:07')
    expect(formatTime(new Date(2026, 0, 5, 21, 45).getTime())).toBe('21:45')
  })

  it('names today and yesterday, and dates anything older', () => {
    expect(formatDay(now - 3600_000, now)).toBe('Today')
    expect(formatDay(new Date(2026, 10, 24, 23, 0).getTime(), now)).toBe('Yesterday')
    expect(formatDay(new Date(2026, 10, 20, 10, 0).getTime(), now)).toMatch(/2026/)
  })

  it('counts down in m:ss and never below zero', () => {
    expect(formatCountdown(125_000)).toBe('2:05')
    expect(formatCountdown(500)).toBe('0:01')
    expect(formatCountdown(-5000)).toBe('0:00')
  })
})
