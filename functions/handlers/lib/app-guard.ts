import type { AppState } from '../../domain/app-decider.ts';
import type { Dependencies } from './dependencies.ts';
import { appNotFound } from './http.ts';
import { loadApp } from './streams.ts';

/** An app exists once something was recorded for it, until it is deleted. */
export async function requireApp(deps: Dependencies, app: string): Promise<AppState> {
  const state = await loadApp(deps, app);
  if (state.version === 0 || state.deleted) throw appNotFound(app);
  return state;
}
