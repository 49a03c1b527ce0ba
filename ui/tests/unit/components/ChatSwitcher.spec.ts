import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ChatSwitcher from '../../../src/components/ChatSwitcher.vue'

const chats = [
  { id: 'a', name: 'Alpha', unread: 0, hint: '' },
  { id: 'b', name: 'Beta', unread: 2, hint: '' },
  { id: 'g', name: 'Gamma', unread: 0, hint: 'Join' },
]
const mountIt = () => mount(ChatSwitcher, { props: { open: true, chats }, attachTo: document.body })

describe('ChatSwitcher', () => {
  it('filters as you type', async () => {
    const wrapper = mountIt()
    expect(wrapper.findAll('[role=option]')).toHaveLength(3)
    await wrapper.get('[data-testid=switcher-filter]').setValue('ga')
    expect(wrapper.findAll('[role=option]').map((o) => o.text())).toEqual([
      expect.stringContaining('Gamma'),
    ])
    await wrapper.get('[data-testid=switcher-filter]').setValue('zzz')
    expect(wrapper.text()).toContain('No chat matches.')
  })

  it('moves with the arrow keys and opens with Enter', async () => {
    const wrapper = mountIt()
    const input = wrapper.get('[data-testid=switcher-filter]')
    expect(input.attributes('aria-activedescendant')).toBe('switch-a')
    await input.trigger('keydown', { key: 'ArrowDown' })
    await input.trigger('keydown', { key: 'ArrowDown' })
    await input.trigger('keydown', { key: 'ArrowDown' })
    await input.trigger('keydown', { key: 'ArrowUp' })
    expect(input.attributes('aria-activedescendant')).toBe('switch-g')
    expect(wrapper.get('#switch-g').attributes('aria-selected')).toBe('true')
    await input.trigger('keydown', { key: 'Enter' })
    expect(wrapper.emitted('choose')).toEqual([['g']])
  })

  it('opens a clicked chat, shows unread counts, and closes on Escape', async () => {
    const wrapper = mountIt()
    expect(wrapper.get('#switch-b').text()).toContain('2')
    await wrapper.get('#switch-b').trigger('click')
    expect(wrapper.emitted('choose')).toEqual([['b']])
    await wrapper.get('[data-testid=switcher-filter]').trigger('keydown', { key: 'Escape' })
    expect(wrapper.emitted('close')).toHaveLength(1)
  })
})
