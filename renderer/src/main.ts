import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { createDefaultBridge, setBridge } from './bridge';
import './styles/base.css';

void createDefaultBridge().then((bridge) => {
  setBridge(bridge);
  createApp(App).use(createPinia()).mount('#app');
});
