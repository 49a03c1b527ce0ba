import { createApp } from 'vue'
import 'bulma/css/bulma.min.css'
import './styles/theme.css'
import App from './App.vue'
import { reportError } from './composables/useErrors'

const app = createApp(App)
// Whatever escapes a handler shows in the error notice; the page is never reloaded.
app.config.errorHandler = (err) => reportError(err)
window.addEventListener('unhandledrejection', (event) => reportError(event.reason))
app.mount('#app')
