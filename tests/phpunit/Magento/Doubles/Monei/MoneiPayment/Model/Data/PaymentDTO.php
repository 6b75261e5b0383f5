<?php

declare(strict_types=1);

namespace Monei\MoneiPayment\Model\Data;

/** Double of MONEI's PaymentDTO (2.2.3): a payment as MONEI's API returns it (built from the array directly here). */
class PaymentDTO
{
    public function __construct(private array $data)
    {
    }

    public function getId(): string
    {
        return (string) ($this->data['id'] ?? '');
    }

    public function getStatus(): string
    {
        return (string) ($this->data['status'] ?? '');
    }

    public function getRawData(): array
    {
        return $this->data;
    }
}
