<?php

declare(strict_types=1);

if (!extension_loaded('monei_concurrency')) {
    fwrite(STDERR, "monei_concurrency is not loaded: run through `make test`.\n");
    exit(1);
}
if (getenv('REDIS_URL') === false) {
    fwrite(STDERR, "REDIS_URL is not set: run through `make test`.\n");
    exit(1);
}

require_once __DIR__ . '/Support/RedisTestCase.php';
require_once __DIR__ . '/Support/Forker.php';
require_once __DIR__ . '/Support/Resp.php';
require_once __DIR__ . '/Support/PhpProcess.php';
require_once __DIR__ . '/Support/RedisServer.php';
require_once __DIR__ . '/Support/BuiltInServer.php';
