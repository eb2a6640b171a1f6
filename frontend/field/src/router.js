import { createRouter, createWebHashHistory } from 'vue-router';
import { getToken } from './lib/api.js';
import Today from './views/Today.vue';

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/today' },
    { path: '/login', component: () => import('./views/Login.vue'), meta: { public: true } },
    { path: '/today', component: Today, meta: { tab: 'today' } },
    { path: '/needs', component: () => import('./views/Needs.vue'), meta: { tab: 'needs' } },
    { path: '/needs/:id', component: () => import('./views/NeedDetail.vue'), props: true },
    { path: '/scan', component: () => import('./views/Scan.vue'), meta: { tab: 'scan' } },
    { path: '/approve', component: () => import('./views/Approve.vue'), meta: { tab: 'approve' } },
    { path: '/sync', component: () => import('./views/Sync.vue'), meta: { tab: 'sync' } },
    { path: '/inbox', component: () => import('./views/Inbox.vue') },
    { path: '/h/:id', component: () => import('./views/Household.vue'), props: true },
    { path: '/h/:id/visit', component: () => import('./views/VisitForm.vue'), props: true },
    { path: '/h/:id/need', component: () => import('./views/NeedForm.vue'), props: true },
    { path: '/h/:id/claim', component: () => import('./views/ClaimForm.vue'), props: true },
    { path: '/:rest(.*)*', redirect: '/today' },
  ],
});

router.beforeEach((to) => {
  if (!to.meta.public && !getToken()) return '/login';
  if (to.path === '/login' && getToken()) return '/today';
  return true;
});
