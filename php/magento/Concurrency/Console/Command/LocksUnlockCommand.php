<?php

declare(strict_types=1);

namespace Monei\Concurrency\Console\Command;

use Monei\Concurrency\Model\Backend;
use Monei\Concurrency\Model\Lock\RedisLockManager;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputArgument;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

/**
 * bin/magento monei:locks:unlock ORDER [--payment=ID] --force
 * bin/magento monei:locks:unlock --lock=NAME --force
 *
 * Frees a lock whoever holds it (OrderLockManager/ProcessingLock::forceUnlock()):
 * the order lock of ORDER, the payment lock (ORDER, ID), or a Magento named
 * lock of RedisLockManager. For a holder that is gone (a killed worker whose
 * lease has not run out yet); the holder's next extend() fails and the next
 * waiter gets the lock. Without --force it only shows the holder.
 * Exit codes: 0 freed, 1 nothing was held, 2 bad usage, refused (no --force) or a Redis error.
 */
class LocksUnlockCommand extends Command
{
    public function __construct(private Backend $backend)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setName('monei:locks:unlock')
            ->setDescription('Frees an order, payment or Magento named lock whoever holds it (needs --force)')
            ->addArgument('order', InputArgument::OPTIONAL, 'Order increment id')
            ->addOption('payment', null, InputOption::VALUE_REQUIRED, 'MONEI payment id: free the payment lock (ORDER, ID) instead of the order lock')
            ->addOption('lock', null, InputOption::VALUE_REQUIRED, 'A Magento lock name (LockManagerInterface::lock()) instead of an order')
            ->addOption('force', null, InputOption::VALUE_NONE, 'Really free it');
        parent::configure();
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $order = $input->getArgument('order');
        $payment = $input->getOption('payment');
        $name = $input->getOption('lock');
        if (($order === null) === ($name === null) || ($payment !== null && $order === null)) {
            $output->writeln('<error>Give either ORDER (optionally with --payment) or --lock=NAME.</error>');
            return Command::INVALID;
        }
        try {
            if ($name !== null) {
                $locks = $this->backend->frameworkLocks();
                $id = RedisLockManager::lockId((string) $name);
                $inspect = static fn () => $locks->inspect($id);
                $free = static fn () => $locks->forceUnlock($id);
                $what = 'Magento lock "' . LockRows::printable((string) $name) . '"';
            } elseif ($payment !== null) {
                $locks = $this->backend->paymentLocks();
                $inspect = static fn () => $locks->inspect((string) $order, (string) $payment);
                $free = static fn () => $locks->forceUnlock((string) $order, (string) $payment);
                $what = 'payment lock ' . LockRows::printable($order . ' / ' . $payment);
            } else {
                $locks = $this->backend->orderLocks();
                $inspect = static fn () => $locks->inspect((string) $order);
                $free = static fn () => $locks->forceUnlock((string) $order);
                $what = 'order lock ' . LockRows::printable((string) $order);
            }
            $holder = $inspect();
            if ($holder === null) {
                $output->writeln("The $what is not held.");
                return Command::FAILURE;
            }
            $output->writeln('Held: ' . LockRows::line($holder), OutputInterface::OUTPUT_RAW);
            if (!$input->getOption('force')) {
                $output->writeln('<error>Not freed: add --force to free it whoever holds it.</error>');
                return Command::INVALID;
            }
            if (!$free()) {
                $output->writeln("The $what was released meanwhile; nothing to free.");
                return Command::FAILURE;
            }
        } catch (\Monei\Concurrency\ConcurrencyException | \Monei\Concurrency\InvalidArgumentException $e) {
            $output->writeln('<error>' . $e->getMessage() . '</error>');
            return Command::INVALID;
        }
        $output->writeln("Freed the $what.");
        return Command::SUCCESS;
    }
}
