-- The address guard: private addresses refused after DNS resolution and at
-- every redirect, pg_elt.allowed_private_networks, pg_elt.allowed_hosts.
\getenv mock_port MOCK_API_PORT
SELECT 'http://127.0.0.1:' || :'mock_port' AS base,
	   'http://127.0.0.2:' || :'mock_port' AS other_loopback,
	   'http://localhost:' || :'mock_port' AS by_name \gset

\i test/regress/helpers.sql
SET test.try_port = ':[0-9]{2,5}/';

-- the test servers allow private networks so that the mock API is reachable
SHOW pg_elt.allow_private_networks;
SELECT status FROM elt.http_get(:'base' || '/small');

-- turned off, loopback is refused, also when a name resolves to it, and a
-- connection pooled before is not reused
SET pg_elt.allow_private_networks = off;
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', :'base' || '/small'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', replace(:'base', '127.0.0.1', '[::1]') || '/small'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://127.1:' || :'mock_port' || '/small'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://2130706433:' || :'mock_port' || '/small'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[::ffff:127.0.0.1]:' || :'mock_port' || '/small'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://0.0.0.0:' || :'mock_port' || '/small'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://10.255.255.1:' || :'mock_port' || '/small'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://192.168.0.1:' || :'mock_port' || '/small'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://172.16.0.1:' || :'mock_port' || '/small'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://169.254.169.254/latest/meta-data/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://100.64.0.1/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://224.0.0.1/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[fe80::1]/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[fd00::1]/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[ff02::1]/'));
-- IPv6 addresses that carry an IPv4 address are judged by it (all refused
-- in the open-socket callback: nothing is sent)
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[::127.0.0.1]:9/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[::ffff:0:10.1.2.3]:9/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[64:ff9b::7f00:1]:9/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[64:ff9b::169.254.169.254]:9/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[64:ff9b:1::808:808]:9/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[2002:7f00:1::1]:9/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[2002:c0a8:1:2::1]:9/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[2001:0:a00:1::1]:9/'));
-- Teredo: the server 8.8.8.8 is public, the client (inverted bits) 10.0.0.1 is not
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[2001:0:808:808::f5ff:fffe]:9/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[100::1]:9/'));

-- one address allowed while the rest stays closed
SET pg_elt.allowed_private_networks = '127.0.0.1/32';
SELECT status FROM elt.http_get(:'base' || '/small');
-- a redirect from the allowed address to another private address is
-- refused when the new connection is made
SELECT pg_temp.try(format('SELECT elt.http_get(%L)',
	:'base' || '/redirect?code=302&to=' || :'other_loopback' || '/small'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)',
	:'base' || '/redirect?code=301&to=http://169.254.169.254/latest/meta-data/'));
-- an allowed IPv4 range also allows the IPv4-mapped form of its addresses
-- (the same destination on a dual-stack socket), not the forms that go
-- through a translator or a tunnel
SELECT status FROM elt.http_get('http://[::ffff:127.0.0.1]:' || :'mock_port' || '/small');
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[64:ff9b::7f00:1]:9/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[::127.0.0.1]:9/'));
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', 'http://[2002:7f00:1::1]:9/'));
SET pg_elt.allowed_private_networks = '127.0.0.0/30, ::1';
SELECT status FROM elt.http_get(:'base' || '/small');
SELECT pg_temp.try($$SET pg_elt.allowed_private_networks = 'not-an-address'$$);
SELECT pg_temp.try($$SET pg_elt.allowed_private_networks = '10.0.0.0/33'$$);
RESET pg_elt.allowed_private_networks;
RESET pg_elt.allow_private_networks;

-- pg_elt.allowed_hosts: only the listed hosts, redirects included
SET pg_elt.allowed_hosts = 'api.example.com, *.example.org';
SELECT pg_temp.try(format('SELECT elt.http_get(%L)', :'base' || '/small'));
SET pg_elt.allowed_hosts = '127.0.0.1';
SELECT status FROM elt.http_get(:'base' || '/small');
SELECT pg_temp.try(format('SELECT elt.http_get(%L)',
	:'base' || '/redirect?code=302&to=' || :'by_name' || '/small'));
SET pg_elt.allowed_hosts = 'LOCALHOST, 127.0.0.1';
SELECT status FROM elt.http_get(:'base' || '/redirect?code=302&to=' || :'by_name' || '/small');
RESET pg_elt.allowed_hosts;
