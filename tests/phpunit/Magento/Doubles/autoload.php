<?php

declare(strict_types=1);

/*
 * Autoloading for the Magento module tests: the modules under php/magento
 * (PSR-4 as in their composer.json files), the hand-written doubles of the
 * Magento, MONEI and Symfony Console classes they use (this directory), and
 * the test support classes. Required by every test in tests/phpunit/Magento.
 */

namespace Monei\Concurrency\Tests\Magento;

const ROOT = __DIR__ . '/../../../..';

spl_autoload_register(static function (string $class): void {
    static $map = [
        // Longest prefixes first.
        'Monei\\Concurrency\\Magento\\Monei\\' => ROOT . '/php/magento/ConcurrencyMonei/',
        'Monei\\Concurrency\\Magento\\' => ROOT . '/php/magento/Concurrency/',
        'Monei\\Concurrency\\Controller\\' => ROOT . '/php/magento/Concurrency/Controller/',
        'Monei\\Concurrency\\Tests\\Magento\\Doubles\\' => __DIR__ . '/',
        'Monei\\Concurrency\\Tests\\Magento\\Support\\' => __DIR__ . '/../Support/',
        'Monei\\MoneiPayment\\' => __DIR__ . '/Monei/MoneiPayment/',
        'Magento\\' => __DIR__ . '/Magento/',
        'Symfony\\Component\\Console\\' => __DIR__ . '/Symfony/Component/Console/',
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
