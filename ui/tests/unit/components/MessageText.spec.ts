import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import MessageText from '../../../src/components/MessageText.vue'

describe('MessageText', () => {
  it('renders Markdown', () => {
    const wrapper = mount(MessageText, { props: { text: '**hi** there' } })
    expect(wrapper.get('strong').text()).toBe('hi')
  })

  it('renders hostile text inert', () => {
    const wrapper = mount(MessageText, {
      props: {
        text: '<img src=x onerror=alert(1)> <script>alert(2)</script> [x](javascript:alert(3))',
      },
    })
    expect(wrapper.find('img').exists()).toBe(false)
    expect(wrapper.find('script').exists()).toBe(false)
    expect(wrapper.text()).toContain('<img src=x onerror=alert(1)>')
    expect(wrapper.html()).not.toMatch(/href="javascript/i)
  })

  it('opens http(s) links through the parent and never navigates', async () => {
    const wrapper = mount(MessageText, { props: { text: 'go to https://example.com/x' } })
    const link = wrapper.get('a')
    expect(link.attributes('rel')).toBe('noopener noreferrer')
    const event = new MouseEvent('click', { bubbles: true, cancelable: true })
    link.element.dispatchEvent(event)
    expect(event.defaultPrevented).toBe(true)
    expect(wrapper.emitted('open-link')).toEqual([['https://example.com/x']])
  })

  it('ignores a click on a link without a safe target', async () => {
    const wrapper = mount(MessageText, { props: { text: 'hi' } })
    // A link whose href was removed (as the sanitiser does for other schemes).
    const inner = wrapper.element.firstElementChild as HTMLElement
    inner.innerHTML = '<a>inert</a>'
    const event = new MouseEvent('click', { bubbles: true, cancelable: true })
    inner.querySelector('a')!.dispatchEvent(event)
    expect(event.defaultPrevented).toBe(true)
    expect(wrapper.emitted('open-link')).toBeUndefined()
  })
})
