import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import UserList from '../../../src/components/UserList.vue'
import type { User } from '../../../src/types'

const users: User[] = [
  { id: 'b', name: 'Bob', provider: 'github', presence: 'offline' },
  { id: 'me', name: 'Ada', provider: 'local', presence: 'online' },
  { id: 'c', name: 'Cy', provider: 'microsoft', presence: 'idle' },
]

describe('UserList', () => {
  it('lists me first, highlighted, then others by presence', () => {
    const wrapper = mount(UserList, { props: { users, meId: 'me' } })
    const items = wrapper.findAll('li')
    expect(items.map((li) => li.attributes('data-user'))).toEqual(['me', 'c', 'b'])
    expect(items[0].find('.is-self').exists()).toBe(true)
    expect(items[0].text()).toContain('(you)')
    expect(items.map((li) => li.attributes('data-presence'))).toEqual(['online', 'idle', 'offline'])
  })

  it('shows the provider', () => {
    const wrapper = mount(UserList, { props: { users, meId: 'me' } })
    expect(wrapper.get('[data-user=b]').text()).toContain('GitHub')
    expect(wrapper.find('[data-user=c] [data-provider=microsoft]').exists()).toBe(true)
  })

  it('starts a chat with others, never with myself', async () => {
    const wrapper = mount(UserList, { props: { users, meId: 'me' } })
    await wrapper.get('[data-user=me] .user').trigger('click')
    await wrapper.get('[data-user=c] .user').trigger('click')
    expect(wrapper.emitted('start')).toEqual([['c']])
    expect(wrapper.get('[data-user=c] a').attributes('aria-label')).toBe('Chat with Cy (idle)')
  })
})
