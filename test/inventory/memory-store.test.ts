import { MemoryInventoryStore } from '../../src/inventory/store.js';
import { inventoryStoreConformance } from '../conformance/inventory-store.js';

inventoryStoreConformance('memory', async () => ({ store: new MemoryInventoryStore() }));
