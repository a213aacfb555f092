-- Named leases: one holder at a time across all service instances, expiring when the holder stops renewing.
CREATE TABLE leases (
    name VARCHAR(190) NOT NULL PRIMARY KEY,
    holder VARCHAR(190) NOT NULL,
    acquired_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
