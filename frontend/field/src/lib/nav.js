// Back to where the worker came from, or to a sensible page when the app was opened here.
export function goBack(router, fallback = '/today') {
  if (typeof window !== 'undefined' && window.history.state?.back) router.back();
  else router.replace(fallback);
}
