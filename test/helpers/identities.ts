/** Identities used across tests: real-looking Entra object ids in a tenant of our own. */
export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const FOREIGN_TENANT = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';
export const ADMIN = { id: '29:admin', aadObjectId: 'a1a1a1a1-0000-4000-8000-000000000001', name: 'Ada Admin' };
export const APPROVER = { id: '29:approver', aadObjectId: 'b2b2b2b2-0000-4000-8000-000000000002', name: 'Bob Approver' };
export const STRANGER = { id: '29:stranger', aadObjectId: 'c3c3c3c3-0000-4000-8000-000000000003', name: 'Cy Colleague' };
export const APPROVER_2 = { id: '29:approver2', aadObjectId: 'd4d4d4d4-0000-4000-8000-000000000004', name: 'Dee Approver' };
