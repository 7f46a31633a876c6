import type { FastifyInstance } from 'fastify';
import type { ServeContext } from '../http/run-generation.js';
import { dashboardState } from './dashboard-state.js';
import { dashboardPage } from './page.js';

/** Registers the dashboard: `GET /` (the page) and `GET /dashboard/state` (what it polls). */
export function registerDashboard(app: FastifyInstance, ctx: ServeContext): void {
  const page = dashboardPage(ctx.modelId);
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
  app.get('/dashboard/state', async () => dashboardState(ctx.engine, ctx.modelId));
}
