// Two people with the same display name are told apart wherever a name is shown: the people
// list, message senders, the typing line and a private chat's tab and title.
import { describe, expect, it } from 'vitest'
import { ada, bob, mountApp, settle } from '../support/fake'
import type { MockScenario } from '../../e2e/fake-backend'
import type { User } from '../../../src/types'

// Same name as Bob after NFKC and case folding (full-width capitals), another account.
const impostor: User = {
  id: 'local:f00d1234',
  name: 'ＢＯＢ',
  provider: 'local',
  presence: 'online',
}
const scenario: Partial<MockScenario> = {
  restore: ada,
  users: [bob, impostor],
  chats: [
    {
      id: 'go',
      name: 'Go',
      kind: 'group',
      owner: bob.id,
      createdAt: 2,
      members: [ada.id, bob.id, impostor.id],
    },
  ],
}

describe('names that collide', () => {
  it('are tagged with provider and id everywhere, and carry the full id on hover', async () => {
    const { wrapper, fake } = await mountApp(scenario)
    const person = (id: string) => wrapper.get(`[data-user="${id}"] .user-name`)
    expect(person(bob.id).text()).toBe('Bob · github·7')
    expect(person(impostor.id).text()).toBe('ＢＯＢ · local·1234')
    expect(person(bob.id).attributes('title')).toBe('Bob — GitHub, github:7')
    expect(person(impostor.id).attributes('title')).toBe('ＢＯＢ — This computer, local:f00d1234')
    expect(person(ada.id).text()).toBe('Ada') // a unique name stays as it is

    await wrapper.get('[data-testid=tab-go]').trigger('click')
    await settle()
    fake.say('go', bob.id, 'hi from the real Bob')
    await settle()
    fake.say('go', impostor.id, 'hi from the other one')
    await settle()
    const senders = wrapper.findAll('[data-testid=sender]')
    expect(senders.map((s) => s.text())).toEqual(['Bob · github·7', 'ＢＯＢ · local·1234'])
    expect(senders[1].attributes('title')).toContain('local:f00d1234')

    fake.typing('go', impostor.id)
    await settle()
    expect(wrapper.get('[data-testid=typing]').text()).toBe('ＢＯＢ · local·1234 is typing…')

    const chat = fake.invite(impostor.id)
    await settle()
    await wrapper.get('[data-testid=invite-open]').trigger('click')
    await settle()
    const tab = wrapper.get(`[data-testid="tab-${chat.id}"]`)
    expect(tab.text()).toContain('ＢＯＢ · local·1234')
    expect(wrapper.get('[data-testid=chat-title]').text()).toBe('ＢＯＢ · local·1234')
    expect(wrapper.get('[data-testid=chat-title]').attributes('title')).toContain('local:f00d1234')
  })

  it('are left alone when nobody else has them', async () => {
    const { wrapper } = await mountApp({ ...scenario, users: [bob] })
    expect(wrapper.get(`[data-user="${bob.id}"] .user-name`).text()).toBe('Bob')
  })
})
