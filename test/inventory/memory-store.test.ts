import { MemoryInventoryStore } from '../../src/inventory/inventory-store.js';
import { inventoryStoreConformance } from '../../src/testing/inventory-store-conformance.js';

inventoryStoreConformance('memory', async () => ({ store: new MemoryInventoryStore() }));
