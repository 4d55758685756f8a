// Picks the Storage adapter from the configuration: a local folder unless STORAGE_URL names S3.

import type { StorageConfig } from '../config/storage-config.ts';
import { LocalStorage } from './local.ts';
import { S3Storage } from './s3.ts';
import type { Storage } from './storage.ts';

export function connectStorage(config: StorageConfig): Storage {
  return config.kind === 's3' ? new S3Storage(config) : new LocalStorage(config.dir);
}
