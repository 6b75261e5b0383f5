<?php

declare(strict_types=1);

/*
 * Autoloading for the Magento module tests: the modules under php/magento
 * (mapped as Magento's app/code loader maps them), the hand-written doubles
 * of the Magento and MONEI classes they use (this directory; their real
 * signatures are checked against signatures.json), the real Symfony Console
 * and the test support classes. Required by every test in tests/phpunit/Magento.
 */

namespace Monei\Concurrency\Tests\Magento;

const ROOT = __DIR__ . '/../../../..';

spl_autoload_register(static function (string $class): void {
    static $map = [
        // Longest prefixes first. The modules map the way Magento's app/code
        // loader maps them: Vendor\Module\Path\Class -> <Vendor>/<Module>/Path/Class.php.
        'Monei\\Concurrency\\Tests\\Magento\\Doubles\\' => __DIR__ . '/',
        'Monei\\Concurrency\\Tests\\Magento\\Support\\' => __DIR__ . '/../Support/',
        'Monei\\ConcurrencyMonei\\' => ROOT . '/php/magento/ConcurrencyMonei/',
        'Monei\\Concurrency\\' => ROOT . '/php/magento/Concurrency/',
        'Monei\\MoneiPayment\\' => __DIR__ . '/Monei/MoneiPayment/',
        'Magento\\' => __DIR__ . '/Magento/',
    ];
    foreach ($map as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});

// Symfony Console: the real library, from Debian's php-symfony-console
// (5.4 there; Magento 2.4.7+ ships 6.4, with the same API for what the
// modules use).
const SYMFONY_CONSOLE = '/usr/share/php/Symfony/Component/Console/autoload.php';
if (!is_file(SYMFONY_CONSOLE)) {
    throw new \RuntimeException('Symfony Console is missing: install php-symfony-console (tests/tools/deps.sh test)');
}
require_once SYMFONY_CONSOLE;
