"""The skeleton shared by every stage: settings (config), atomic outputs and seeds (io), every path (paths), the
stage skeleton (stage), plugin lookup (registry) and markdown tables (tables). One folder, one DVC dependency."""
