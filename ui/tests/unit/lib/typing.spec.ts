import { describe, expect, it } from 'vitest'
import { activeTypers, describeTyping, shouldSendTyping } from '../../../src/lib/typing'

describe('shouldSendTyping', () => {
  it('sends the first time, then at most every 3 s', () => {
    expect(shouldSendTyping(null, 1000)).toBe(true)
    expect(shouldSendTyping(1000, 3999)).toBe(false)
    expect(shouldSendTyping(1000, 4000)).toBe(true)
  })
})

describe('activeTypers', () => {
  it('lists only those whose 5 s have not run out', () => {
    expect(activeTypers({ a: 6000, b: 4000 }, 5000)).toEqual(['a'])
    expect(activeTypers({}, 0)).toEqual([])
  })
})

describe('describeTyping', () => {
  it('says who is typing', () => {
    expect(describeTyping([])).toBeNull()
    expect(describeTyping(['Ada'])).toBe('Ada is typing…')
    expect(describeTyping(['Ada', 'Bob'])).toBe('Ada and Bob are typing…')
    expect(describeTyping(['Ada', 'Bob', 'Cy'])).toBe('Ada, Bob and Cy are typing…')
    expect(describeTyping(['a', 'b', 'c', 'd'])).toBe('Several people are typing…')
  })
})
