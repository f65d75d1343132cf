"""The API layer: provider-neutral client machinery for components that call a hosted or
self-hosted model over HTTP (limits, retry policy, prices, the concurrent cached runner). No SDK here."""
