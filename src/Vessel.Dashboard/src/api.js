// Calls the Vessel REST API (issue 6); errors carry the RFC 7807 problem details so forms can show them per field.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    const problem = await response.json().catch(() => null);
    throw new ApiError(response.status, problem);
  }
  return response.status === 204 ? null : response.json();
}

export const vmPath = (name) => `/api/vms/${encodeURIComponent(name)}`;

// A token in the URL fragment (never sent to the server) is traded for the HttpOnly session cookie, then dropped.
export async function signInFromFragment() {
  const match = /token=([0-9a-f]+)/i.exec(location.hash);
  if (!match) return;
  await api('POST', '/dashboard/session', { token: match[1] });
  history.replaceState(null, '', location.pathname + '#/');
}
