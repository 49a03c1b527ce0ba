import { describe, expect, it } from 'vitest'
import { filterItems, moveSelection } from '../../../src/lib/switcher'

const items = [
  { id: '1', name: 'Lunch plans' },
  { id: '2', name: 'Rustaceans' },
  { id: '3', name: 'Trust and safety' },
]

describe('filterItems', () => {
  it('returns everything for an empty query', () => {
    expect(filterItems(items, '  ')).toHaveLength(3)
  })

  it('matches case-insensitively, names that start with the query first', () => {
    expect(filterItems(items, 'RUST').map((i) => i.id)).toEqual(['2', '3'])
    expect(filterItems(items, 'zzz')).toEqual([])
  })
})

describe('moveSelection', () => {
  it('wraps around both ends', () => {
    expect(moveSelection(0, -1, 3)).toBe(2)
    expect(moveSelection(2, 1, 3)).toBe(0)
    expect(moveSelection(1, 1, 3)).toBe(2)
    expect(moveSelection(0, 1, 0)).toBe(-1)
  })
})
