/** The playground's entry (dist/playground/playground.js). */
import { startPlayground } from './app.js';

void startPlayground(document).catch((e: unknown) => {
  const status = document.getElementById('status');
  if (status) status.textContent = `The playground failed to start: ${e instanceof Error ? e.message : String(e)}`;
});
