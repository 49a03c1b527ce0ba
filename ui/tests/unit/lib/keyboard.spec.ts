import { describe, expect, it } from 'vitest'
import { isHelpKey, isSwitcherKey, isTextField } from '../../../src/lib/keyboard'

const el = (html: string) => {
  const div = document.createElement('div')
  div.innerHTML = html
  return div.firstElementChild as HTMLElement
}

describe('isTextField', () => {
  it('knows where typing goes', () => {
    expect(isTextField(el('<textarea></textarea>'))).toBe(true)
    expect(isTextField(el('<input>'))).toBe(true)
    expect(isTextField(el('<input type="search">'))).toBe(true)
    expect(isTextField(el('<select></select>'))).toBe(true)
    expect(isTextField(el('<input type="checkbox">'))).toBe(false)
    expect(isTextField(el('<button></button>'))).toBe(false)
    expect(isTextField(null)).toBe(false)
  })
})

describe('shortcuts', () => {
  const key = (k: string, extra: Partial<KeyboardEvent> = {}) =>
    ({
      key: k,
      ctrlKey: false,
      metaKey: false,
      altKey: false,
      target: document.body,
      ...extra,
    }) as KeyboardEvent

  it('Ctrl+K and Cmd+K open the switcher, from anywhere', () => {
    expect(isSwitcherKey(key('k', { ctrlKey: true }))).toBe(true)
    expect(isSwitcherKey(key('K', { metaKey: true }))).toBe(true)
    expect(isSwitcherKey(key('k', { ctrlKey: true, target: el('<textarea></textarea>') }))).toBe(
      true,
    )
    expect(isSwitcherKey(key('k'))).toBe(false)
  })

  it('? opens the list only outside text fields', () => {
    expect(isHelpKey(key('?'))).toBe(true)
    expect(isHelpKey(key('?', { target: el('<textarea></textarea>') }))).toBe(false)
    expect(isHelpKey(key('?', { target: el('<input>') }))).toBe(false)
    expect(isHelpKey(key('/', {}))).toBe(false)
  })
})
