import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import StatusBar from '../../../src/components/StatusBar.vue'

describe('StatusBar', () => {
  it('shows the sentence, tone and app version of a healthy backend', () => {
    const wrapper = mount(StatusBar, {
      props: {
        state: {
          kind: 'ready',
          status: {
            appVersion: '9.9.9',
            backendUrl: 'http://127.0.0.1:1',
            backendMode: 'embedded',
            backend: { status: 'ok', service: 'chatr-backend', version: '1.0.0' },
          },
        },
      },
    })
    expect(wrapper.get('[data-testid=status-line]').classes()).toContain('is-success')
    expect(wrapper.text()).toContain('Embedded backend at http://127.0.0.1:1 is up')
    expect(wrapper.get('[data-testid=app-version]').text()).toBe('Chatr 9.9.9')
    expect(wrapper.find('button').exists()).toBe(false)
  })

  it('offers a retry on failure and emits it when clicked', async () => {
    const wrapper = mount(StatusBar, {
      props: { state: { kind: 'failed', error: { kind: 'backendUnreachable', message: 'down' } } },
    })
    expect(wrapper.text()).toContain('Backend unreachable: down')
    await wrapper.get('button').trigger('click')
    expect(wrapper.emitted('retry')).toHaveLength(1)
  })

  it('renders hostile text as text, never as HTML', () => {
    const wrapper = mount(StatusBar, {
      props: {
        state: {
          kind: 'failed',
          error: { kind: 'x', message: '<img src=x onerror="alert(1)">' },
        },
      },
    })
    expect(wrapper.find('img').exists()).toBe(false)
    expect(wrapper.text()).toContain('<img src=x onerror="alert(1)">')
  })
})
